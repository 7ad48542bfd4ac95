import Foundation
import Platform
import Testing

@Suite struct CSVTests {
    @Test func quotedFieldsLineBreaksAndSeparatorsParse() throws {
        let text = "\u{FEFF}name,notes,city\r\n\"Lovelace, Ada\",\"said \"\"hi\"\"\nand left\",London\n\nBabbage,,\r\n"
        #expect(
            try CSV.parse(text) == [
                ["name", "notes", "city"], ["Lovelace, Ada", "said \"hi\"\nand left", "London"], ["Babbage", "", ""],
            ])
        #expect(try CSV.parse("a;b\n1;2") == [["a", "b"], ["1", "2"]])
        #expect(try CSV.parse("a,b\n\"x\",\"\"") == [["a", "b"], ["x", ""]])
        #expect(try CSV.parse("") == [])
    }

    @Test func brokenQuotesAreErrorsWithTheirLine() {
        #expect(throws: CSV.ParseError.unterminatedQuote(line: 2)) { try CSV.parse("a\n\"open\nstill") }
        #expect(throws: CSV.ParseError.strayQuote(line: 1)) { try CSV.parse("ab\"c") }
        #expect(throws: CSV.ParseError.strayQuote(line: 1)) { try CSV.parse("\"a\"b") }
    }

    @Test func writtenLinesReadBackAndFormulasAreDefused() throws {
        let fields = ["plain", "with, comma", "quote \" inside", "line\nbreak", "=HYPERLINK(\"x\")", "+4930123456", "-12.5", "@SUM(A1)"]
        let line = CSV.line(fields)
        #expect(line.hasSuffix("\r\n"))
        let parsed = try CSV.parse(line, separator: ",")
        #expect(
            parsed == [
                ["plain", "with, comma", "quote \" inside", "line\nbreak", "'=HYPERLINK(\"x\")", "+4930123456", "-12.5", "'@SUM(A1)"]
            ])
    }
}
