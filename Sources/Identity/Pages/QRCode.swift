/// Errors thrown by `QRCode.init`.
package enum QRCodeError: Error, Equatable {
    /// The text does not fit in a version 40 symbol at error correction level M.
    case tooLong
}

/// A QR Code (ISO/IEC 18004) in byte mode at error correction level M, with an SVG renderer.
///
/// Meant for short ASCII payloads such as `otpauth://` URIs. No ECI header is written, so
/// non-ASCII text is encoded as raw UTF-8 bytes (most scanners read it as UTF-8).
package struct QRCode: Sendable {
    /// Modules per side (17 + 4 × version).
    package let size: Int
    /// The symbol version, 1...40.
    package let version: Int
    /// The data mask pattern chosen by the penalty rules, 0...7.
    package let mask: Int
    private let modules: [Bool]

    /// Byte mode, error correction level M, the smallest version (1...40) that fits;
    /// throws `QRCodeError.tooLong` otherwise.
    package init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard
            let version = (1...40).first(where: {
                4 + Self.countBits($0) + 8 * bytes.count <= 8 * Self.dataCodewords($0)
            })
        else { throw QRCodeError.tooLong }
        let codewords = Self.addErrorCorrection(Self.encodeData(bytes, version: version), version: version)

        var grid = Grid(size: 17 + 4 * version)
        grid.drawFunctionPatterns(version: version)
        grid.placeData(codewords)

        var best = grid
        var bestMask = 0
        var bestPenalty = Int.max
        for mask in 0..<8 {
            var candidate = grid
            candidate.applyMask(mask)
            candidate.drawFormatBits(mask: mask)
            let penalty = candidate.penalty()
            if penalty < bestPenalty {
                best = candidate
                bestMask = mask
                bestPenalty = penalty
            }
        }
        self.size = best.size
        self.version = version
        self.mask = bestMask
        self.modules = best.dark
    }

    /// Whether the module at column `x`, row `y` is dark. Coordinates outside the symbol
    /// (the quiet zone) are light.
    package func isDark(x: Int, y: Int) -> Bool {
        guard (0..<size).contains(x), (0..<size).contains(y) else { return false }
        return modules[y * size + x]
    }

    /// An SVG document: a quiet zone of 4 modules on a white background, one `<path>` with
    /// all dark modules, `role="img"` and the given `aria-label`. Width and height are
    /// `(size + 8) * moduleSize` CSS pixels. Uses presentation attributes only (no `style`).
    package func svg(moduleSize: Int = 4, label: String) -> String {
        let quiet = 4
        let side = size + 2 * quiet
        let pixels = side * max(1, moduleSize)
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else {
                    x += 1
                    continue
                }
                let start = x
                while x < size, isDark(x: x, y: y) { x += 1 }
                path += "M\(start + quiet) \(y + quiet)h\(x - start)v1h-\(x - start)z"
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(pixels)\" "
            + "height=\"\(pixels)\" viewBox=\"0 0 \(side) \(side)\" role=\"img\" "
            + "aria-label=\"\(Self.xmlEscaped(label))\">"
            + "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#ffffff\"/>"
            + "<path fill=\"#000000\" shape-rendering=\"crispEdges\" d=\"\(path)\"/></svg>"
    }

    private static func xmlEscaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            // Characters XML 1.0 forbids are dropped; tab, newline and CR become references.
            case "\t", "\n", "\r": result += "&#\(scalar.value);"
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: break
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    // MARK: - Tables for error correction level M (index = version; index 0 unused)

    private static let eccPerBlock: [Int] = [
        0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
        26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ]
    private static let blockCount: [Int] = [
        0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
        17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ]

    /// Length of the byte-mode character count indicator.
    static func countBits(_ version: Int) -> Int { version < 10 ? 8 : 16 }

    /// Codewords available for data and error correction (after function patterns,
    /// format and version information; remainder bits excluded).
    static func rawCodewords(_ version: Int) -> Int {
        var modules = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignCount = version / 7 + 2
            modules -= (25 * alignCount - 10) * alignCount - 55
            if version >= 7 { modules -= 36 }
        }
        return modules / 8
    }

    static func dataCodewords(_ version: Int) -> Int {
        rawCodewords(version) - eccPerBlock[version] * blockCount[version]
    }

    /// Center coordinates of alignment patterns (rows and columns alike).
    static func alignmentPositions(_ version: Int) -> [Int] {
        guard version > 1 else { return [] }
        let count = version / 7 + 2
        let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2
        var result = [6]
        for i in 0..<(count - 1) { result.append(17 + 4 * version - 7 - (count - 2 - i) * step) }
        return result
    }

    // MARK: - Data encoding

    private static func encodeData(_ bytes: [UInt8], version: Int) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }
        let capacity = 8 * dataCodewords(version)
        append(0b0100, 4)
        append(bytes.count, countBits(version))
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, capacity - bits.count))  // terminator
        append(0, (8 - bits.count % 8) % 8)
        var result = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while result.count < capacity / 8 {
            result.append(pad)
            pad ^= 0xEC ^ 0x11
        }
        return result
    }

    /// Splits data into blocks (group 1: short blocks, group 2: one data codeword longer),
    /// appends Reed–Solomon codewords to each and interleaves them.
    private static func addErrorCorrection(_ data: [UInt8], version: Int) -> [UInt8] {
        let blocks = blockCount[version]
        let eccLength = eccPerBlock[version]
        let raw = rawCodewords(version)
        let shortBlocks = blocks - raw % blocks
        let shortData = raw / blocks - eccLength
        let generator = reedSolomonGenerator(degree: eccLength)
        var dataBlocks: [ArraySlice<UInt8>] = []
        var eccBlocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<blocks {
            let length = shortData + (index < shortBlocks ? 0 : 1)
            let block = data[offset..<offset + length]
            offset += length
            dataBlocks.append(block)
            eccBlocks.append(reedSolomonRemainder(block, generator: generator))
        }
        var result: [UInt8] = []
        result.reserveCapacity(raw)
        for i in 0...shortData {
            for block in dataBlocks where i < block.count { result.append(block[block.startIndex + i]) }
        }
        for i in 0..<eccLength {
            for block in eccBlocks { result.append(block[i]) }
        }
        return result
    }

    /// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11D).
    static func gfMultiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= ((Int(y) >> i) & 1) * Int(x)
        }
        return UInt8(truncatingIfNeeded: z)
    }

    /// Coefficients of ∏(x − α^i), i = 0..<degree, highest first, leading 1 omitted.
    static func reedSolomonGenerator(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = gfMultiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = gfMultiply(root, 0x02)
        }
        return result
    }

    static func reedSolomonRemainder(_ data: ArraySlice<UInt8>, generator: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: generator.count)
        for byte in data {
            let factor = byte ^ result[0]
            result.removeFirst()
            result.append(0)
            for i in 0..<generator.count { result[i] ^= gfMultiply(generator[i], factor) }
        }
        return result
    }

    /// The 15-bit format information for level M and the given mask.
    static func formatBits(mask: Int) -> Int {
        let data = 0b00 << 3 | mask  // level M = 00
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        return (data << 10 | remainder) ^ 0x5412
    }

    /// The 18-bit version information (BCH (18,6)).
    static func versionBits(_ version: Int) -> Int {
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        return version << 12 | remainder
    }
}

// MARK: - Module grid

private struct Grid {
    let size: Int
    var dark: [Bool]
    var reserved: [Bool]

    init(size: Int) {
        self.size = size
        dark = Array(repeating: false, count: size * size)
        reserved = dark
    }

    subscript(x: Int, y: Int) -> Bool {
        get { dark[y * size + x] }
        set { dark[y * size + x] = newValue }
    }

    mutating func setFunction(_ x: Int, _ y: Int, _ isDark: Bool) {
        self[x, y] = isDark
        reserved[y * size + x] = true
    }

    mutating func drawFunctionPatterns(version: Int) {
        for i in 0..<size {
            setFunction(6, i, i % 2 == 0)
            setFunction(i, 6, i % 2 == 0)
        }
        // Finder patterns with their separators.
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 {
                for dx in -4...4 where (0..<size).contains(cx + dx) && (0..<size).contains(cy + dy) {
                    let distance = max(abs(dx), abs(dy))
                    setFunction(cx + dx, cy + dy, distance != 2 && distance != 4)
                }
            }
        }
        let positions = QRCode.alignmentPositions(version)
        let last = positions.count - 1
        for (i, cx) in positions.enumerated() {
            for (j, cy) in positions.enumerated() {
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 { setFunction(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) }
                }
            }
        }
        drawFormatBits(mask: 0)  // reserves the format areas and sets the dark module
        if version >= 7 {
            let bits = QRCode.versionBits(version)
            for i in 0..<18 {
                let bit = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3
                let b = i / 3
                setFunction(a, b, bit)
                setFunction(b, a, bit)
            }
        }
    }

    mutating func drawFormatBits(mask: Int) {
        let bits = QRCode.formatBits(mask: mask)
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0...5 { setFunction(8, i, bit(i)) }
        setFunction(8, 7, bit(6))
        setFunction(8, 8, bit(7))
        setFunction(7, 8, bit(8))
        for i in 9..<15 { setFunction(14 - i, 8, bit(i)) }
        for i in 0..<8 { setFunction(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { setFunction(8, size - 15 + i, bit(i)) }
        setFunction(8, size - 8, true)  // the dark module
    }

    /// Places codewords in the two-column zigzag from the bottom right; remainder bits stay light.
    mutating func placeData(_ codewords: [UInt8]) {
        var index = 0
        let totalBits = codewords.count * 8
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }  // skip the vertical timing pattern
            let upward = (right + 1) & 2 == 0
            for vertical in 0..<size {
                let y = upward ? size - 1 - vertical : vertical
                for x in [right, right - 1] where !reserved[y * size + x] && index < totalBits {
                    self[x, y] = (codewords[index >> 3] >> (7 - (index & 7))) & 1 == 1
                    index += 1
                }
            }
            right -= 2
        }
    }

    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !reserved[y * size + x] {
                let invert: Bool
                switch mask {
                case 0: invert = (x + y) % 2 == 0
                case 1: invert = y % 2 == 0
                case 2: invert = x % 3 == 0
                case 3: invert = (x + y) % 3 == 0
                case 4: invert = (x / 3 + y / 2) % 2 == 0
                case 5: invert = x * y % 2 + x * y % 3 == 0
                case 6: invert = (x * y % 2 + x * y % 3) % 2 == 0
                default: invert = ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if invert { self[x, y].toggle() }
            }
        }
    }

    private static let finderLike: [Bool] = [true, false, true, true, true, false, true, false, false, false, false]
    private static let finderLikeReversed: [Bool] = finderLike.reversed()

    /// Penalty score N1 (runs), N2 (2×2 blocks), N3 (1:1:3:1:1 with 4 light modules on one
    /// side, within the symbol) and N4 (dark proportion).
    func penalty() -> Int {
        var score = 0
        for index in 0..<size {
            for line in [(0..<size).map { self[$0, index] }, (0..<size).map { self[index, $0] }] {
                var runLength = 1
                for i in 1...size {
                    if i < size && line[i] == line[i - 1] {
                        runLength += 1
                    } else {
                        if runLength >= 5 { score += runLength - 2 }
                        runLength = 1
                    }
                }
                for start in 0...(size - 11) {
                    let window = line[start..<start + 11]
                    if window.elementsEqual(Self.finderLike) || window.elementsEqual(Self.finderLikeReversed) {
                        score += 40
                    }
                }
            }
        }
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let color = self[x, y]
                if self[x + 1, y] == color && self[x, y + 1] == color && self[x + 1, y + 1] == color {
                    score += 3
                }
            }
        }
        let darkCount = dark.reduce(0) { $0 + ($1 ? 1 : 0) }
        let total = size * size
        score += 10 * (abs(darkCount * 20 - total * 10) / total)
        return score
    }
}
