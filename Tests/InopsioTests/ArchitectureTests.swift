import Foundation
import Testing

/// The module shape of docs/architecture.md, read from the sources: domain modules never import each other, and
/// nothing below the routes (pages, services, stores, jobs, consumers, domain types) uses a type a routes file
/// (`API/` or `*Routes.swift`) declares.
@Suite struct ArchitectureTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")
    static let modules = ["Identity", "Gateway", "CRM", "Messaging", "Website"]

    static func files(of module: String) throws -> [(path: String, text: String)] {
        let root = sources.appendingPathComponent(module)
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        var found: [(String, String)] = []
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let relative = module + url.path.dropFirst(root.path.count)
            found.append((relative, try String(contentsOf: url, encoding: .utf8)))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    static func isRoutes(_ path: String) -> Bool { path.contains("/API/") || path.hasSuffix("Routes.swift") }

    /// Top-level types a file declares.
    static func declaredTypes(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            guard let first = line.first, first != " " else { return nil }
            var words = line.split(separator: " ").map(String.init)
            while let first = words.first,
                ["package", "public", "internal", "private", "fileprivate", "final"].contains(first)
            {
                words.removeFirst()
            }
            guard words.count >= 2, ["struct", "enum", "class", "protocol", "actor"].contains(words[0]) else {
                return nil
            }
            return String(words[1].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        }
    }

    static func mentions(_ text: String, _ name: String) -> Bool {
        var rest = text[...]
        while let range = rest.range(of: name) {
            let before = range.lowerBound == text.startIndex ? " " : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? " " : text[range.upperBound]
            if !(before.isLetter || before.isNumber || before == "_")
                && !(after.isLetter || after.isNumber || after == "_")
            {
                return true
            }
            rest = text[range.upperBound...]
        }
        return false
    }

    @Test func domainModulesImportOnlyKernelPlatformAndLibraries() throws {
        for module in Self.modules {
            for (path, text) in try Self.files(of: module) {
                for other in Self.modules where other != module {
                    #expect(
                        !text.contains("\nimport \(other)\n") && !text.hasPrefix("import \(other)\n"),
                        "\(path) imports \(other)")
                }
            }
        }
    }

    @Test func nothingBelowTheRoutesUsesARouteType() throws {
        var checked = 0
        for module in Self.modules {
            let files = try Self.files(of: module)
            let routeTypes = Set(files.filter { Self.isRoutes($0.path) }.flatMap { Self.declaredTypes($0.text) })
            for (path, text) in files where !Self.isRoutes(path) && !path.hasSuffix("Module.swift") {
                checked += 1
                let used = routeTypes.filter { Self.mentions(text, $0) }
                #expect(used.isEmpty, "\(path) uses \(used.sorted())")
            }
        }
        #expect(checked > 150, "files checked: \(checked)")
    }

    /// The shared idioms are Platform's: no module writes its own signed-in guard or page redirect again.
    @Test func modulesUseThePlatformsPageGuardAndRedirect() throws {
        for module in Self.modules {
            for (path, text) in try Self.files(of: module) {
                #expect(!text.contains("func guarded("), "\(path) has its own page guard (use PageResponses.signedIn)")
                #expect(
                    !text.contains("static func redirect("), "\(path) has its own redirect (use PageResponses.redirect)"
                )
            }
        }
    }
}
