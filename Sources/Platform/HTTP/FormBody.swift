import Foundation
import Hummingbird
import Kernel
import NIOCore

/// Reading `application/x-www-form-urlencoded` bodies (HTML forms, OAuth endpoints).
package enum FormBody {
    /// The fields of the body. A field given twice is refused (RFC 6749 §3.1 forbids repeated parameters), and
    /// one holding NUL (`%00`) is a 422 naming it, as in JSON bodies (no store keeps NUL).
    package static func decode(_ request: Request, context: AppRequestContext) async throws -> [String: String] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw Problem(status: .unsupportedMediaType, detail: "send the body as application/x-www-form-urlencoded")
        }
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let fields = try parse(String(buffer: buffer))
        let unstorable = fields.filter { StorableText.hasNUL($0.key) || StorableText.hasNUL($0.value) }.keys.sorted()
        if !unstorable.isEmpty {
            throw Problem.validation(unstorable.map(StorableText.issue(field:)))
        }
        return fields
    }

    /// Parses `a=1&b=two+words`; `+` is a space, percent escapes are decoded.
    package static func parse(_ text: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decodeComponent(parts[0]),
                let value = decodeComponent(parts.count > 1 ? parts[1] : "")
            else { throw Problem(status: .badRequest, detail: "the form body is not valid URL encoding") }
            guard fields[name] == nil else {
                throw Problem(status: .badRequest, detail: "the field \(name) is given more than once")
            }
            fields[name] = value
        }
        return fields
    }

    private static func decodeComponent(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// `a=1&b=two%20words`, for redirects that carry parameters.
    package static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name) + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }
}
