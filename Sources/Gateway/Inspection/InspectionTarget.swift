/// A part of the request an inspection rule looks at. In JSON it is a string: `path`, `query`, `headers`,
/// `header:<name>` or `body`.
package enum InspectionTarget: Sendable, Hashable, Codable {
    /// The request path as sent (still percent-encoded: add the `urlDecode` transform).
    case path
    /// Every query parameter name and value, each decoded once (`+` and `%XX`).
    case query
    /// Every header value.
    case headers
    /// The values of one header; the name is matched case-insensitively.
    case header(String)
    /// Every string value and object key of the JSON body, at any depth.
    case body

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let target = InspectionTarget(text) else { throw InspectionRuleError.invalidTarget(text) }
        self = target
    }

    /// Parses the JSON spelling.
    package init?(_ text: String) {
        switch text.lowercased() {
        case "path": self = .path
        case "query": self = .query
        case "headers": self = .headers
        case "body": self = .body
        case let other where other.hasPrefix("header:") && other.count > "header:".count:
            self = .header(String(other.dropFirst("header:".count)))
        default: return nil
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .path: try container.encode("path")
        case .query: try container.encode("query")
        case .headers: try container.encode("headers")
        case .header(let name): try container.encode("header:\(name.lowercased())")
        case .body: try container.encode("body")
        }
    }
}
