import Foundation
import Logging
import ServiceLifecycle

/// Runs the relay: as fast as it finds events, otherwise every poll interval; cleans up once a minute.
struct EventRelayService: Service {
    let backbone: EventBackbone

    func run() async throws {
        var lastCleanUp = ContinuousClock.now
        var lastCount = ContinuousClock.now - .seconds(60)
        var told = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var relayed = 0
            do {
                relayed = try await backbone.relayBatch(lookFirst: !told)
                if ContinuousClock.now - lastCleanUp > .seconds(60) {
                    lastCleanUp = .now
                    try await backbone.cleanUp()
                }
                if ContinuousClock.now - lastCount > .seconds(10) {
                    lastCount = .now
                    try await backbone.countBacklog()
                }
            } catch {
                backbone.logger.warning(
                    "event relay failed; retrying", metadata: ["error.message": "\(String(reflecting: error))"])
            }
            told = false
            if relayed < backbone.settings.batchSize {
                told = await backbone.outboxWake.wait(timeout: backbone.settings.pollInterval)
            }
        }
    }
}

/// Listens for the backbone's PostgreSQL notifications and wakes this process's relay and workers; reconnects
/// after a failure (polling covers the gap).
struct EventNotificationService: Service {
    let backbone: EventBackbone

    func run() async throws {
        let outbox = backbone.outboxWake
        let own = "deliveries:\(backbone.instance)"
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown {
                    try await backbone.database.listen(channel: Outbox.notificationChannel) { payload in
                        // `deliveries:<instance>`: a process handed out events (this one has woken its own workers
                        // already; another does not say for which groups).
                        if payload.hasPrefix("deliveries") {
                            if payload != own { backbone.wakeAll() }
                        } else {
                            outbox.signal()
                        }
                    }
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                backbone.logger.warning(
                    "event notifications lost; polling until they are back",
                    metadata: ["error.message": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Runs one consumer group's workers in this process.
struct EventConsumerService: Service {
    let backbone: EventBackbone
    let group: String

    func run() async throws {
        let instance = UUID().uuidString.prefix(8).lowercased()
        await withTaskGroup(of: Void.self) { workers in
            for index in 0..<max(1, backbone.settings.workersPerGroup) {
                let worker = "\(group)/\(instance)/\(index)"
                let handedOut = backbone.handedOut[group] ?? EventSignal()
                workers.addTask {
                    var told = false
                    defer {
                        if backbone.redis != nil {
                            Task { await backbone.releasePartitions(group: group, worker: worker) }
                        }
                    }
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        let seen = handedOut.generation
                        var claimed = 0
                        // With Redis Streams, the database still carries retries and replayed dead letters; a Redis
                        // failure must not stop those.
                        if backbone.redis != nil {
                            do {
                                claimed = try await backbone.consumeRedis(group: group, worker: worker)
                            } catch is CancellationError {
                                return
                            } catch {
                                backbone.logger.warning(
                                    "reading events from Redis failed; retrying",
                                    metadata: [
                                        "event.group": "\(group)", "error.message": "\(String(reflecting: error))",
                                    ])
                            }
                        }
                        do {
                            claimed += try await backbone.consumeBatch(group: group, worker: worker, lookFirst: !told)
                        } catch is CancellationError {
                            return
                        } catch {
                            backbone.logger.warning(
                                "event claim failed; retrying",
                                metadata: ["event.group": "\(group)", "error.message": "\(String(reflecting: error))"])
                        }
                        told = false
                        if claimed == 0 {
                            told = await handedOut.wait(
                                timeout: backbone.settings.pollInterval, unlessSignalledSince: seen)
                        }
                    }
                }
            }
        }
    }
}
