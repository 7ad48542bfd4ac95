import Foundation
import Hummingbird
import Kernel
import Logging
import Platform
import ServiceLifecycle

/// Reloads the block list every few seconds (blocks added on other instances) and prunes old expired ones.
struct BlockListService: Service {
    let blocks: BlockList
    let logger: Logger

    func run() async throws {
        var lastPrune = Date.distantPast
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = Date()
            do {
                try await blocks.refresh(now: now)
                if now.timeIntervalSince(lastPrune) > 3_600 {
                    try await blocks.prune(now: now)
                    lastPrune = now
                }
            } catch {
                // The previous list stays in force; say so, but only as a warning (the database may be restarting).
                logger.warning(
                    "gateway block list not refreshed", metadata: ["error.message": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: blocks.refreshInterval)
        }
    }
}
