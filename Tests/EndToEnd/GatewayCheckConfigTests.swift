import Foundation
import Testing

/// `inopsio gateway check-config FILE` as an operator runs it before a reload.
@Suite struct GatewayCheckConfigTests {
    static func run(_ json: String, _ extra: [String] = []) async throws -> (Int32?, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("routes.json")
        try Data(json.utf8).write(to: file)
        let process = try InopsioProcess(["gateway", "check-config", file.path] + extra)
        let status = await process.waitForExit()
        return (status, process.stdout)
    }

    @Test func aBadFileIsRefusedWithEveryProblemAndExitCode1() async throws {
        let (status, output) = try await Self.run(
            #"{"upstreams": {"crm": {"targets": ["ftp://x"]}}, "routes": [{"name": "a", "match": {"path_prefix": "api"}, "upstream": "nope"}]}"#
        )
        #expect(status == 1)
        #expect(output.contains("upstreams.crm.targets[0]: ftp://x is not an http(s)://host[:port][/path] URL"))
        #expect(output.contains("routes[0].match.path_prefix: must start with /"))
        #expect(output.contains("routes[0].upstream: no upstream named nope"))
    }

    @Test func aGoodFileListsTheRoutesItMakes() async throws {
        let (status, output) = try await Self.run(
            #"{"upstreams": {"ext": {"targets": ["http://127.0.0.1:9000"]}}, "routes": [{"name": "mine", "match": {"path_prefix": "/x/"}, "upstream": "ext"}]}"#,
            ["--modules", "gateway", "--upstream", "identity=http://10.0.0.1:8080"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("OK"))
        #expect(output.contains("  mine\n"))
        #expect(output.contains("identity-0 (generated)"))
    }
}

/// `inopsio tenant set-plan`, which picks a tenant's plan limits at the gateway.
@Suite struct TenantPlanCommandTests {
    @Test func aTenantMovesToTheEnterprisePlanAndAnUnknownPlanIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = ["--data-dir", directory.path]
        let create = try InopsioProcess(["tenant", "create", "--slug", "acme", "--name", "Acme"] + data)
        #expect(await create.waitForExit() == 0, "\(create.stderr)")
        let move = try InopsioProcess(["tenant", "set-plan", "--slug", "acme", "--plan", "enterprise"] + data)
        #expect(await move.waitForExit() == 0, "\(move.stderr)")
        let list = try InopsioProcess(["tenant", "list"] + data)
        #expect(await list.waitForExit() == 0)
        #expect(list.stdout.contains(#""plan":"enterprise""#), "\(list.stdout)")
        let refused = try InopsioProcess(["tenant", "set-plan", "--slug", "acme", "--plan", "platinum"] + data)
        #expect(await refused.waitForExit() == 1)
        #expect(refused.stderr.contains("plan: must be one of enterprise, standard"))
    }
}
