/// A fragment of HTML. Interpolated strings are escaped; only other `HTML` values are inserted as markup,
/// so a view cannot accidentally inject user text unescaped.
package struct HTML: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    package private(set) var rendered: String

    package init(stringLiteral value: String) { rendered = value }

    package init(stringInterpolation: Interpolation) { rendered = stringInterpolation.rendered }

    /// Markup that is already safe (produced by this kit); never pass user input here.
    package init(trusted markup: String) { rendered = markup }

    package var description: String { rendered }

    /// Escapes interpolated strings; inserts interpolated `HTML` as is.
    package struct Interpolation: StringInterpolationProtocol {
        var rendered = ""

        package init(literalCapacity: Int, interpolationCount: Int) {
            rendered.reserveCapacity(literalCapacity * 2)
        }

        package mutating func appendLiteral(_ literal: String) { rendered += literal }
        package mutating func appendInterpolation(_ text: String) { rendered += HTML.escape(text) }
        package mutating func appendInterpolation(_ html: HTML) { rendered += html.rendered }
        package mutating func appendInterpolation(_ list: [HTML]) {
            for item in list { rendered += item.rendered }
        }
    }

    /// Escapes text for element content and double-quoted attribute values.
    package static func escape(_ text: String) -> String {
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
