import Foundation

/// RFC 4180 CSV: fields separated by commas (or `;`, detected from the header line when it has more of them, as
/// spreadsheets in many locales write), quoted with `"` when they hold a separator, a quote or a line break (a
/// quote inside doubled), records ended by CRLF or LF. A UTF-8 byte order mark is skipped.
package enum CSV {
    package enum ParseError: Error, Equatable, CustomStringConvertible {
        /// A quoted field was still open at the end of the text (the record starting on `line`).
        case unterminatedQuote(line: Int)
        /// A quote in the middle of an unquoted field, or text after a closing quote (`line`).
        case strayQuote(line: Int)

        package var description: String {
            switch self {
            case .unterminatedQuote(let line): "a quoted field opened on line \(line) is never closed"
            case .strayQuote(let line): "a quote on line \(line) is neither at the start of a field nor doubled"
            }
        }
    }

    /// The separator of `text`: `;` when its first line has more semicolons than commas, else `,`.
    package static func separator(of text: String) -> Character {
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r\n" }
        return firstLine.filter { $0 == ";" }.count > firstLine.filter { $0 == "," }.count ? ";" : ","
    }

    /// The records of `text`, each a list of fields. Blank lines are skipped.
    package static func parse(_ text: String, separator: Character? = nil) throws(ParseError) -> [[String]] {
        let separator = separator ?? self.separator(of: text)
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var line = 1
        var recordLine = 1
        var scalars = text.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        let separatorScalar = separator.unicodeScalars.first!
        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return iterator.next()
        }
        func endRecord() {
            record.append(field)
            field = ""
            if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
            record = []
        }
        while let scalar = next() {
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            quoted = false
                            afterQuote = true
                            pending = following
                        }
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case separatorScalar:
                record.append(field)
                field = ""
                afterQuote = false
            case "\r":
                if let following = next(), following != "\n" { pending = following }
                endRecord()
                afterQuote = false
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                afterQuote = false
                line += 1
                recordLine = line
            case "\"":
                guard field.isEmpty, !afterQuote else { throw .strayQuote(line: line) }
                quoted = true
            default:
                if afterQuote { throw .strayQuote(line: line) }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw .unterminatedQuote(line: recordLine) }
        if !field.isEmpty || !record.isEmpty || afterQuote { endRecord() }
        return records
    }

    /// One record as a CSV line (with CRLF). A field that a spreadsheet would run as a formula (starting with `=`,
    /// `+`, `-`, `@`, tab or carriage return) gets a leading `'`, except numbers such as `-12.5` and `+4930123456`.
    package static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\r\n"
    }

    static func escape(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first),
            !isNumber(text)
        {
            text = "'" + text
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == ";" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func isNumber(_ text: String) -> Bool {
        let body = text.dropFirst()
        return !body.isEmpty && body.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            && body.filter({ $0 == "." }).count <= 1
    }
}
