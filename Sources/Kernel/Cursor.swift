import Foundation

/// An opaque pagination cursor: the sort key of the last item, base64url-encoded so clients cannot depend on it.
package struct Cursor: Hashable, Sendable, Codable {
    package let token: String

    package init(position: String) {
        self.token = Data(position.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package init?(token: String) {
        guard !token.isEmpty, token.count <= 512, Cursor.decode(token) != nil else { return nil }
        self.token = token
    }

    /// The position this cursor was made from.
    package var position: String { Cursor.decode(token) ?? "" }

    static func decode(_ token: String) -> String? {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = Cursor(token: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "bad cursor")
        }
        self = value
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(token)
    }
}
