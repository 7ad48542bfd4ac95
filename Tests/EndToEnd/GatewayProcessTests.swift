import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What the split deployment's test needs from scripts/test.
enum SplitDeployment {
    /// PostgreSQL and Redis; under CI their absence fails the test instead of skipping it.
    static var serversAvailable: Bool {
        (TestEnvironment.postgresURL != nil && TestEnvironment.redisURL != nil) || TestEnvironment.isCI
    }
}

/// The split deployment for real: two gateway processes in front of two Identity processes, all `inopsio`
/// binaries on loopback, sharing PostgreSQL and (for the gateways' limits) Redis.
@Suite(.serialized, .enabled(if: SplitDeployment.serversAvailable))
struct GatewayProcessTests {
    static let limit = 60

    /// `try_timeout_ms`: a sign-up hashes its password with scrypt (about 1.6 s in a debug build on an idle core);
    /// under the whole suite's load on 2 cores it once took over the default 15 s, and the gateway answered 504.
    static func routes(identity: [Int], extra: String = "") -> String {
        let targets = identity.map { "\"http://127.0.0.1:\($0)\"" }.joined(separator: ", ")
        return """
            {"default_rate_limits": [],
             "upstreams": {"identity": {"targets": [\(targets)], "eject_after_failures": 1, "ejection_ms": 2000,
               "try_timeout_ms": 60000,
               "health_check": {"path": "/health", "interval_ms": 200, "healthy_threshold": 1, "unhealthy_threshold": 1}}},
             "routes": [\(extra)
               {"name": "me", "match": {"path": "/api/v1/identity/users/me"}, "upstream": "identity", "auth": "authenticated"},
               {"name": "users", "match": {"path": "/api/v1/identity/users"}, "upstream": "identity",
                "permissions": ["identity.users:read"]},
               {"name": "module-checks", "match": {"path_prefix": "/open/"}, "upstream": "identity",
                "transform": {"strip_prefix": "/open"}},
               {"name": "limited", "match": {"path": "/limited"}, "upstream": "identity",
                "transform": {"rewrite_path": "/health"},
                "rate_limits": [{"key": "ip", "limit": \(limit), "period_seconds": 60}]}
             ]}
            """
    }

    @Test func gatewaysRouteAuthenticateFailOverReloadAndShareLimits() async throws {
        let redis = try #require(TestEnvironment.redisURL)
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { database in
            let moduleEnvironment = ["INOPSIO_DATABASE_URL": database]
            var first = try InopsioProcess(
                ["serve", "--port", "0", "--modules", "identity,website"], environment: moduleEnvironment)
            let second = try InopsioProcess(
                ["serve", "--port", "0", "--modules", "identity,website"], environment: moduleEnvironment)
            defer {
                first.terminate()
                second.terminate()
            }
            let firstPort = try await first.waitForPort()
            let secondPort = try await second.waitForPort()

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let routesFile = directory.appendingPathComponent("routes.json")
            try Data(Self.routes(identity: [firstPort, secondPort]).utf8).write(to: routesFile)
            let gatewayEnvironment = [
                // A generous Redis timeout: a test machine busy building must not push the gateways onto their
                // local fallback counters, which would (rightly) admit more than the shared limit.
                "INOPSIO_DATABASE_URL": database, "INOPSIO_REDIS_URL": redis + "?timeout_ms=5000",
                "INOPSIO_OPERATOR_TENANT": "acme",
            ]
            let gateways = try (0..<2).map { _ in
                try InopsioProcess(
                    ["serve", "--port", "0", "--modules", "gateway", "--routes", routesFile.path],
                    environment: gatewayEnvironment)
            }
            defer { gateways.forEach { $0.terminate() } }
            let ports = try await [gateways[0].waitForPort(), gateways[1].waitForPort()]

            // Requests route: sign-up goes through the generated identity routes to the module processes.
            let (status, _, body) = try await HTTP.json(
                "POST", ports[0], "/api/v1/identity/signup",
                [
                    "tenant_slug": "acme", "tenant_name": "Acme", "name": "Ada", "email": "ada@example.com",
                    "password": "correct horse battery",
                ])
            #expect(status == 201, "\(body)")
            let token = try #require((body["tokens"] as? [String: Any])?["access_token"] as? String)

            // Auth at the edge: no token, a forged token, a token without the permission never reach a module.
            #expect(try await HTTP.get(ports[0], "/api/v1/identity/users/me").0 == 401)
            #expect(
                try await HTTP.get(ports[1], "/api/v1/identity/users/me", headers: ["Authorization": "Bearer x.y.z"]).0
                    == 401)
            let me = try await HTTP.get(
                ports[1], "/api/v1/identity/users/me", headers: ["Authorization": "Bearer \(token)"])
            #expect(me.0 == 200, "\(me.2)")
            #expect(me.1["x-inopsio-gateway-latency"] != nil)
            // ...and in the module: a route that is public at the edge still meets the module's own check.
            #expect(try await HTTP.get(ports[0], "/open/api/v1/identity/users").0 == 401)
            #expect(
                try await HTTP.get(
                    ports[0], "/open/api/v1/identity/users", headers: ["Authorization": "Bearer \(token)"]
                ).0
                    == 200)

            // One upstream killed mid-run: requests keep succeeding (retried, then the target is ejected) ...
            let authorization = ["Authorization": "Bearer \(token)"]
            let victim = first
            let killedAt = EventMarker()
            let killed = Task {
                try await Task.sleep(for: .milliseconds(400))
                victim.signal(SIGKILL)
                killedAt.mark()
            }
            // Requests flow until the kill and for at least 60 requests after it, however slow the machine is.
            let duringOutage = try await Self.hammer(
                ports: ports, path: "/api/v1/identity/users/me", headers: authorization, event: killedAt,
                afterEvent: 60)
            try await killed.value
            #expect(duringOutage.failures == 0, "\(duringOutage.statuses)")
            try await Self.waitFor(port: ports[0], token: token) { $0?["healthy"] as? Bool == false }
            // ... and recovers when it comes back on its port.
            first = try InopsioProcess(
                ["serve", "--port", "\(firstPort)", "--modules", "identity,website"], environment: moduleEnvironment)
            _ = try await first.waitForPort()
            try await Self.waitFor(port: ports[0], token: token) { $0?["healthy"] as? Bool == true }

            // SIGHUP swaps the routes while requests flow, none failing.
            let reloadedAt = EventMarker()
            let swapped = Task {
                try await Task.sleep(for: .milliseconds(300))
                let extra =
                    #"{"name": "swapped", "match": {"path": "/swapped"}, "upstream": "identity", "transform": {"rewrite_path": "/health"}},"#
                try Data(Self.routes(identity: [firstPort, secondPort], extra: extra).utf8).write(to: routesFile)
                gateways[0].signal(SIGHUP)
                reloadedAt.mark()
            }
            let duringReload = try await Self.hammer(
                ports: [ports[0]], path: "/api/v1/identity/users/me", headers: authorization, event: reloadedAt,
                afterEvent: 100)
            try await swapped.value
            #expect(duringReload.failures == 0, "\(duringReload.statuses)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await HTTP.get(ports[0], "/swapped").0 == 200)
            #expect(gateways[0].stdout.contains("SIGHUP: reloading the gateway routes"))

            // A limit of N per minute, shared by both gateways through Redis, admits N in total.
            let limited = try await Self.hammer(ports: ports, path: "/limited", headers: [:], count: 3 * Self.limit)
            #expect(limited.statuses[200] == Self.limit, "\(limited.statuses)")
            #expect(limited.statuses[429] == 2 * Self.limit)

            let ready = try await HTTP.get(ports[1], "/ready")
            #expect(ready.2.contains("shared through redis"), "\(ready.2)")
        }
    }

    /// Sends GETs from eight workers spread over `ports`: `count` in all, or, with `event`, until the event has
    /// happened and `afterEvent` requests were sent after it (a kill or a reload while requests flow, whatever the
    /// machine's speed). Counts answers by status (0 = transport error).
    static func hammer(
        ports: [Int], path: String, headers: [String: String], count: Int = .max,
        event: EventMarker? = nil, afterEvent: Int = 0
    ) async throws -> (statuses: [Int: Int], failures: Int) {
        let statuses = await withTaskGroup(of: [Int].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var seen: [Int] = []
                    var index = worker
                    while index < count {
                        if let event, event.happened, event.countRequestAfter() > afterEvent { break }
                        let port = ports[index % ports.count]
                        let status = (try? await HTTP.get(port, path, headers: headers).0) ?? 0
                        seen.append(status)
                        index += 8
                    }
                    return seen
                }
            }
            return await group.reduce(into: [Int]()) { $0 += $1 }
        }
        var counts: [Int: Int] = [:]
        for status in statuses { counts[status, default: 0] += 1 }
        let failures = statuses.filter { $0 != 200 && $0 != 429 }.count
        return (counts, failures)
    }

    /// Polls the gateway's upstream health until the first target's status satisfies `condition` (10 s at most).
    static func waitFor(port: Int, token: String, _ condition: ([String: Any]?) -> Bool) async throws {
        var last = ""
        for _ in 0..<100 {
            let (status, _, body) = try await HTTP.get(
                port, "/api/v1/gateway/upstreams", headers: ["Authorization": "Bearer \(token)"])
            last = "\(status) \(body)"
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let upstream = (object?["data"] as? [[String: Any]])?.first { $0["name"] as? String == "identity" }
            let target = (upstream?["targets"] as? [[String: Any]])?.first
            if status == 200, condition(target) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("upstream state not reached: \(last)")
    }
}

/// Remembers that something happened (an upstream killed, the routes reloaded) and counts the requests sent
/// after it, for the request loops.
final class EventMarker: Sendable {
    private let state = Mutex<(happened: Bool, requestsAfter: Int)>((false, 0))

    func mark() { state.withLock { $0.happened = true } }

    var happened: Bool { state.withLock { $0.happened } }

    /// Counts one more request sent after the event; returns the count so far.
    func countRequestAfter() -> Int {
        state.withLock { state in
            state.requestsAfter += 1
            return state.requestsAfter
        }
    }
}
