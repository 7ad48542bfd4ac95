/// A fragment of HTML. Interpolated strings are escaped; only other `HTML` values are inserted as markup,
/// so a view cannot accidentally inject user text unescaped.
public struct HTML: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public private(set) var rendered: String

    public init(stringLiteral value: String) { rendered = value }

    public init(stringInterpolation: Interpolation) { rendered = stringInterpolation.rendered }

    /// Markup that is already safe (produced by this kit); never pass user input here.
    public init(trusted markup: String) { rendered = markup }

    public var description: String { rendered }

    /// Escapes interpolated strings; inserts interpolated `HTML` as is.
    public struct Interpolation: StringInterpolationProtocol {
        var rendered = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            rendered.reserveCapacity(literalCapacity * 2)
        }

        public mutating func appendLiteral(_ literal: String) { rendered += literal }
        public mutating func appendInterpolation(_ text: String) { rendered += HTML.escape(text) }
        public mutating func appendInterpolation(_ html: HTML) { rendered += html.rendered }
        public mutating func appendInterpolation(_ list: [HTML]) {
            for item in list { rendered += item.rendered }
        }
    }

    /// Escapes text for element content and double-quoted attribute values.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
