import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the route file on SIGHUP and when the file changes (its modification time or size, polled every
/// second). Requests keep flowing throughout: the new table is swapped in whole, and a bad file leaves the old
/// one in force.
package struct RouteReloadService: Service {
    let routes: RouteTableStore
    let logger: Logger
    let pollInterval: Duration = .seconds(1)

    package func run() async throws {
        guard let file = routes.source.file else {
            try? await gracefulShutdown()
            return
        }
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals {
                    logger.info("SIGHUP: reloading the gateway routes")
                    routes.reload()
                }
            }
            group.addTask {
                var seen = Self.fingerprint(file)
                while !Task.isCancelled {
                    try? await Task.sleep(for: pollInterval)
                    let now = Self.fingerprint(file)
                    if now != seen {
                        seen = now
                        routes.reload()
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Modification time and size: enough to see an edit or a replaced file.
    static func fingerprint(_ path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        return "\(modified):\(size)"
    }
}
