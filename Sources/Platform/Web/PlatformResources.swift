import Foundation

/// Finds the Platform resource folder (`Inopsio_Platform.resources`, holding `Assets/` and `Locales/`) next to
/// the running binary. SwiftPM's generated `Bundle.module` would stop the process with a fatal error when the
/// folder is missing (a binary copied without it); this reports a clear start-up error instead.
enum PlatformResources {
    static let folderName = "Inopsio_Platform.resources"

    static func directory() throws -> URL {
        var candidates = [Bundle.main.bundleURL.appendingPathComponent(folderName)]
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent(folderName))
        for candidate in candidates
        where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Assets").path) {
            return candidate
        }
        throw WebKitError.missingResource(
            "\(folderName) (install it beside the inopsio binary; looked in \(candidates.map(\.path).joined(separator: ", ")))"
        )
    }
}
