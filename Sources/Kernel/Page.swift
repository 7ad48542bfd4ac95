import Foundation

/// One page of a list answer: `{"data": [...], "next_cursor": "..." | null}`.
public struct Page<Item: Sendable>: Sendable {
    public let data: [Item]
    public let nextCursor: Cursor?
    public let total: Int?

    public init(data: [Item], nextCursor: Cursor?, total: Int? = nil) {
        self.data = data
        self.nextCursor = nextCursor
        self.total = total
    }
}

extension Page: Encodable where Item: Encodable {
    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
        case total
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(nextCursor, forKey: .nextCursor)
        try container.encodeIfPresent(total, forKey: .total)
    }
}

/// An opaque pagination cursor: the sort key of the last item, base64url-encoded so clients cannot depend on it.
public struct Cursor: Hashable, Sendable, Codable {
    public let token: String

    public init(position: String) {
        self.token = Data(position.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(token: String) {
        guard !token.isEmpty, token.count <= 512, Cursor.decode(token) != nil else { return nil }
        self.token = token
    }

    /// The position this cursor was made from.
    public var position: String { Cursor.decode(token) ?? "" }

    static func decode(_ token: String) -> String? {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = Cursor(token: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "bad cursor")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(token)
    }
}

/// The `limit` of a list request: default 50, at most 200.
public struct PageLimit: Hashable, Sendable {
    public static let `default` = 50
    public static let maximum = 200
    public let value: Int

    /// `nil` text gives the default; anything outside 1...200 or not a number is `nil`.
    public init?(_ text: String?) {
        guard let text else {
            self.value = PageLimit.default
            return
        }
        guard let number = Int(text), (1...PageLimit.maximum).contains(number) else { return nil }
        self.value = number
    }
}
