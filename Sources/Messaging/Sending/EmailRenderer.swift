import Foundation
import Kernel
import Mustache

/// A template rendered for one recipient.
package struct RenderedEmail: Sendable, Equatable, Encodable {
    package var subject: String
    package var text: String
    package var html: String?
}

/// Renders templates with Mustache: the subject and text part unescaped, the HTML part HTML-escaped. For a sent
/// message it also rewrites the HTML part's links to signed click-tracking links and adds an open pixel.
package struct EmailRenderer: Sendable {
    /// The parts of a template, parsed.
    package struct Compiled: Sendable {
        let subject: MustacheTemplate
        let text: MustacheTemplate
        let html: MustacheTemplate?
    }

    /// Tracking for one message: links go through `base`, signed by `signer`.
    package struct Tracking: Sendable {
        package let base: String
        package let signer: LinkSigner
        package let tenant: TenantID
        package let message: ID<EmailMessage>
    }

    /// Parses a template's parts; the error names the part (`subject`, `text` or `html`) that does not parse.
    package static func compile(subject: String, text: String, html: String?) throws(TemplateError) -> Compiled {
        func parse(_ source: String, field: String, plain: Bool) throws(TemplateError) -> MustacheTemplate {
            do {
                return try MustacheTemplate(string: (plain ? "{{%CONTENT_TYPE:TEXT}}" : "") + source)
            } catch {
                throw TemplateError(field: field, reason: Self.describe(error))
            }
        }
        return Compiled(
            subject: try parse(subject, field: "subject", plain: true),
            text: try parse(text, field: "text", plain: true),
            html: try html.map { source throws(TemplateError) in try parse(source, field: "html", plain: false) })
    }

    package static func render(_ compiled: Compiled, data: [String: JSONValue], tracking: Tracking? = nil)
        -> RenderedEmail
    {
        let object = Self.object(.object(data))
        // A subject is one line: line breaks a variable brought in become spaces.
        let subject = compiled.subject.render(object).split(whereSeparator: \.isNewline).joined(separator: " ")
        var html = compiled.html?.render(object)
        if let tracking, let body = html {
            html = Self.track(body, tracking)
        }
        return RenderedEmail(subject: subject, text: compiled.text.render(object), html: html)
    }

    /// Rewrites `href="http(s)://..."` links to click-tracking links and adds the open pixel before `</body>`
    /// (or at the end). `mailto:`, relative and `#` links and the unsubscribe link stay as they are.
    static func track(_ html: String, _ tracking: Tracking) -> String {
        var output = ""
        var rest = Substring(html)
        let unsubscribe = "\(tracking.base)/messaging/u/"
        while let range = rest.range(of: "href=\"", options: .caseInsensitive) {
            output += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { break }
            let escaped = String(rest[..<end])
            let url = Self.unescapeAttribute(escaped)
            let lower = url.lowercased()
            if (lower.hasPrefix("http://") || lower.hasPrefix("https://")) && !url.hasPrefix(unsubscribe) {
                let token = tracking.signer.token(.click, tenant: tracking.tenant, message: tracking.message, url: url)
                output += "\(tracking.base)/messaging/t/c/\(token)"
            } else {
                output += escaped
            }
            rest = rest[end...]
        }
        output += rest
        let token = tracking.signer.token(.open, tenant: tracking.tenant, message: tracking.message)
        let pixel =
            "<img src=\"\(tracking.base)/messaging/t/o/\(token)\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">"
        if let close = output.range(of: "</body>", options: [.caseInsensitive, .backwards]) {
            output.insert(contentsOf: pixel, at: close.lowerBound)
        } else {
            output += pixel
        }
        return output
    }

    static func unescapeAttribute(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#x3D;", with: "=").replacingOccurrences(of: "&#x2F;", with: "/")
            .replacingOccurrences(of: "&#x60;", with: "`").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// JSON as the plain Swift values Mustache walks (dictionaries, arrays, strings, numbers, booleans).
    static func object(_ value: JSONValue) -> Any {
        switch value {
        case .null: return Optional<String>.none as Any
        case .bool(let flag): return flag
        case .integer(let number): return number
        case .number(let number): return number
        case .string(let text): return text
        case .array(let items): return items.map(object)
        case .object(let fields): return fields.mapValues(object)
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let parserError = error as? MustacheTemplate.ParserError else { return "\(error)" }
        let context = parserError.context
        return "\(parserError.error) at line \(context.lineNumber), column \(context.columnNumber)"
    }
}

/// A template part that does not parse.
package struct TemplateError: Error, Equatable {
    package let field: String
    package let reason: String
}
