import Logging
import ServiceLifecycle

extension Database {
    /// `listen(channel:received:)` for a whole service's life: a lost listening connection is reported (`lost`
    /// says what goes missing meanwhile) and opened again a second later, until a graceful shutdown or
    /// cancellation. Returns at once on engines without notifications.
    package func listenUntilShutdown(
        channel: String, logger: Logger, lost: String, received: @escaping @Sendable (String) -> Void
    ) async {
        guard dialect == .postgres else { return }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await listen(channel: channel, received: received) }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.warning(
                    "\(lost); reconnecting", metadata: ["error.message": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
