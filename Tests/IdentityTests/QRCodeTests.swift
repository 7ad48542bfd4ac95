import Foundation
import Testing

@testable import Identity

#if canImport(FoundationXML)
    import FoundationXML
#endif

private let otpauth =
    "otpauth://totp/Inopsio:ada%40example.com%20(acme)?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    + "&issuer=Inopsio&algorithm=SHA1&digits=6&period=30"

@Test func versionSelectionAtCapacityBoundaries() throws {
    // Byte-mode capacities at level M (ISO/IEC 18004 table 7).
    let capacities = [
        14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
        711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911,
        1989, 2099, 2213, 2331,
    ]
    for (index, capacity) in capacities.enumerated() {
        let version = index + 1
        #expect(QRCode.dataCodewords(version) * 8 >= 4 + QRCode.countBits(version) + capacity * 8)
        guard version <= 10 || version == 40 else { continue }
        let full = try QRCode(String(repeating: "a", count: capacity))
        #expect(full.version == version)
        #expect(full.size == 17 + 4 * version)
        if version < 40 {
            #expect(try QRCode(String(repeating: "a", count: capacity + 1)).version == version + 1)
        }
    }
    #expect(try QRCode("").version == 1)
    #expect(try QRCode(otpauth).version == 8)
}

@Test func tooLong() {
    #expect(throws: QRCodeError.tooLong) { try QRCode(String(repeating: "x", count: 2332)) }
    #expect(throws: QRCodeError.tooLong) { try QRCode(String(repeating: "é", count: 1166)) }  // 2332 bytes
}

@Test func qrKnownVectors() {
    // ISO/IEC 18004 Annex A: generator polynomial of degree 7 (leading coefficient omitted).
    #expect(QRCode.reedSolomonGenerator(degree: 7) == [127, 122, 154, 164, 11, 68, 117])
    #expect(QRCode.formatBits(mask: 0) == 0b101010000010010)
    #expect(QRCode.formatBits(mask: 5) == 0b100000011001110)
    #expect(QRCode.versionBits(7) == 0b000111110010010100)
    #expect(QRCode.versionBits(40) == 0b101000110001101001)
    #expect(QRCode.alignmentPositions(1) == [])
    #expect(QRCode.alignmentPositions(7) == [6, 22, 38])
    #expect(QRCode.alignmentPositions(32) == [6, 34, 60, 86, 112, 138])
    #expect(QRCode.alignmentPositions(40) == [6, 30, 58, 86, 114, 142, 170])
}

@Test func matchesReferenceMatrix() throws {
    // Produced by the Python `qrcode` package (byte mode, level M, mask 1) for the same text.
    let expected = [
        "111111101110001111111", "100000100111101000001", "101110101000101011101", "101110100101001011101",
        "101110100100101011101", "100000101000001000001", "111111101010101111111", "000000000101000000000",
        "101000110101100100101", "111010000100000101001", "111110101100001010101", "110101010110110001000",
        "111110100100001111010", "000000001101000011100", "111111101001110111101", "100000100111000001001",
        "101110100101110001010", "101110100010000011100", "101110101110001111111", "100000100000100111000",
        "111111101010011001001",
    ]
    let code = try QRCode("Hello, QR!")
    #expect(code.version == 1)
    #expect(code.mask == 1)
    let rows = (0..<code.size).map { y in
        String((0..<code.size).map { code.isDark(x: $0, y: y) ? "1" : "0" })
    }
    #expect(rows == expected)
    #expect(!code.isDark(x: -1, y: 0) && !code.isDark(x: 0, y: code.size))
}

@Test func versionInformationIsPlaced() throws {
    let code = try QRCode(String(repeating: "b", count: 120))
    #expect(code.version == 7)
    let bits = QRCode.versionBits(7)
    for i in 0..<18 {
        let expected = (bits >> i) & 1 == 1
        #expect(code.isDark(x: code.size - 11 + i % 3, y: i / 3) == expected)
        #expect(code.isDark(x: i / 3, y: code.size - 11 + i % 3) == expected)
    }
    #expect(code.isDark(x: 8, y: code.size - 8))  // dark module
}

/// `XMLElement.attribute(forName:)` returns nil on Linux when the element has a default namespace.
private func attribute(_ element: XMLElement?, _ name: String) -> String? {
    element?.attributes?.first { $0.name == name }?.stringValue
}

@Test func svgIsWellFormed() throws {
    let code = try QRCode(otpauth)
    let label = "Scan <this> & \"that\" 'now'"
    let svg = code.svg(moduleSize: 5, label: label)
    #expect(!svg.contains("style"))
    #expect(svg.components(separatedBy: "<path").count == 2)
    #expect(svg.contains("shape-rendering=\"crispEdges\""))

    let parser = XMLParser(data: Data(svg.utf8))
    #expect(parser.parse())
    let document = try XMLDocument(xmlString: svg)
    let root = try #require(document.rootElement())
    #expect(root.name == "svg")
    let side = (code.size + 8) * 5
    #expect(attribute(root, "width") == "\(side)")
    #expect(attribute(root, "height") == "\(side)")
    #expect(attribute(root, "viewBox") == "0 0 \(code.size + 8) \(code.size + 8)")
    #expect(attribute(root, "role") == "img")
    #expect(attribute(root, "aria-label") == label)
    let paths = try document.nodes(forXPath: "//*[local-name()='path']")
    #expect(paths.count == 1)

    // The path covers exactly the dark modules, offset by the 4-module quiet zone.
    let d = try #require(attribute(paths.first as? XMLElement, "d"))
    var covered = Set<Int>()
    for command in d.split(separator: "M") {
        let numbers = command.split(whereSeparator: { "hvz ".contains($0) }).compactMap { Int($0) }
        let (x, y, width) = (numbers[0] - 4, numbers[1] - 4, numbers[2])
        for dx in 0..<width { covered.insert(y * code.size + x + dx) }
    }
    let dark = (0..<code.size * code.size).filter { code.isDark(x: $0 % code.size, y: $0 / code.size) }
    #expect(covered == Set(dark))
}

@Test func svgEscapesControlCharacters() throws {
    let svg = try QRCode("x").svg(label: "a\u{1}b\nc")
    #expect(XMLParser(data: Data(svg.utf8)).parse())
    #expect(svg.contains("aria-label=\"ab&#10;c\""))
}
