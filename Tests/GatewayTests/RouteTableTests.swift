import Foundation
import Gateway
import HTTPTypes
import Testing

@Suite struct RouteTableTests {
    static let modules = [
        RouteTable.ModuleLocation(name: "identity", pathPrefixes: ["/api/v1/identity/", "/login"], remoteTargets: nil),
        RouteTable.ModuleLocation(
            name: "crm", pathPrefixes: ["/api/v1/crm/", "/crm/"], remoteTargets: ["http://10.0.0.5:8080"]),
    ]

    func compile(_ json: String, local: Set<String> = ["identity", "gateway"]) throws -> RouteTable {
        try RouteTable.compile(
            GatewayConfiguration.decode(Data(json.utf8)), modules: Self.modules, localModules: local)
    }

    func problems(_ json: String) -> [String] {
        do {
            _ = try compile(json)
            return []
        } catch let error as RouteTableError {
            return error.problems
        } catch {
            return ["\(error)"]
        }
    }

    @Test func emptyFileGivesRemoteModulesTheirPathsAndEverythingElseToThisProcess() throws {
        let table = try compile("{}")
        #expect(table.routes.map(\.name) == ["crm-contact-form", "crm-0", "crm-1", "local"])
        #expect(table.upstreams["crm"]?.targets.map(\.description) == ["http://10.0.0.5:8080"])
        #expect(table.match(host: nil, path: "/api/v1/crm/leads", method: .get)?.0.target == .upstream("crm"))
        #expect(table.match(host: nil, path: "/api/v1/identity/users", method: .get)?.0.target == .module("*"))
    }

    @Test func theContactFormRouteIsLimitedTo5Per15MinutesPerIP() throws {
        let table = try compile("{}")
        let (route, parameters) = try #require(
            table.match(host: nil, path: "/api/v1/crm/public/acme/leads", method: .post))
        #expect(route.name == "crm-contact-form")
        #expect(parameters == ["tenant_slug": "acme"])
        #expect(route.limits == [RateLimitRule(key: .ip, limit: 5, period: 900)])
        #expect(route.target == .upstream("crm"))
    }

    @Test func defaultQuotasAreAPIKeyPerHourWithAnEnterprisePlanAndUserPerMinute() throws {
        let table = try compile("{}")
        #expect(
            table.defaultLimits == [
                RateLimitRule(key: .apiKey, limit: 1_000, period: 3_600, plans: ["enterprise": 10_000]),
                RateLimitRule(key: .user, limit: 100, period: 60),
            ])
        #expect(try compile(#"{"default_rate_limits": []}"#).defaultLimits.isEmpty)
    }

    @Test func firstMatchingRouteWinsAndTemplatesCaptureSegments() throws {
        let table = try compile(
            """
            {"upstreams": {"leads": {"targets": ["http://127.0.0.1:9000"]}},
             "routes": [
               {"name": "lead", "match": {"path": "/api/v1/crm/leads/{id}", "methods": ["GET"]}, "upstream": "leads"},
               {"name": "crm", "match": {"path_prefix": "/api/v1/crm/"}, "upstream": "leads"}
             ]}
            """)
        let (route, parameters) = try #require(table.match(host: nil, path: "/api/v1/crm/leads/42", method: .get))
        #expect(route.name == "lead")
        #expect(parameters == ["id": "42"])
        #expect(table.match(host: nil, path: "/api/v1/crm/leads/42", method: .post)?.0.name == "crm")
        #expect(table.match(host: nil, path: "/api/v1/crm/leads/42/notes", method: .get)?.0.name == "crm")
        #expect(table.match(host: nil, path: "/api/v1/crm/leads/", method: .get)?.0.name == "crm")
    }

    @Test func headMatchesARouteThatAllowsGet() throws {
        let table = try compile(
            #"{"routes": [{"name": "r", "match": {"path_prefix": "/x", "methods": ["GET"]}, "module": "identity"}], "include_default_routes": false}"#
        )
        #expect(table.match(host: nil, path: "/x", method: .head)?.0.name == "r")
        #expect(table.match(host: nil, path: "/x", method: .delete) == nil)
    }

    @Test func aPrefixWithoutTrailingSlashEndsAtASegmentBoundary() throws {
        let table = try compile(
            #"{"routes": [{"name": "r", "match": {"path_prefix": "/api/v1/crm"}, "module": "identity"}], "include_default_routes": false}"#
        )
        #expect(table.match(host: nil, path: "/api/v1/crm", method: .get) != nil)
        #expect(table.match(host: nil, path: "/api/v1/crm/leads", method: .get) != nil)
        #expect(table.match(host: nil, path: "/api/v1/crmx", method: .get) == nil)
    }

    @Test func hostsMatchExactlyOrByWildcardIgnoringPortAndCase() throws {
        let table = try compile(
            #"{"routes": [{"name": "r", "match": {"hosts": ["api.example.com", "*.tenants.example.com"], "path_prefix": "/"}, "module": "identity"}], "include_default_routes": false}"#
        )
        #expect(table.match(host: "API.example.com:8443", path: "/", method: .get) != nil)
        #expect(table.match(host: "acme.tenants.example.com", path: "/", method: .get) != nil)
        #expect(table.match(host: "tenants.example.com", path: "/", method: .get) == nil)
        #expect(table.match(host: "evil-api.example.com", path: "/", method: .get) == nil)
        #expect(table.match(host: nil, path: "/", method: .get) == nil)
    }

    @Test func everyProblemOfAFileIsReportedWithItsPlace() {
        let found = problems(
            """
            {"upstreams": {"bad": {"targets": ["ftp://x"], "balance": "random", "retries": 9}},
             "routes": [
               {"name": "a", "match": {"path_prefix": "api"}, "upstream": "missing"},
               {"name": "a", "match": {"path_prefix": "/x", "path": "/y"}, "module": "crm",
                "permissions": ["not a permission"], "rate_limits": [{"key": "cookie", "limit": 0, "period_seconds": 60}],
                "inspection": "maybe"}
             ]}
            """)
        #expect(found.contains("upstreams.bad.targets[0]: ftp://x is not an http(s)://host[:port][/path] URL"))
        #expect(found.contains("upstreams.bad.balance: must be round_robin or least_connections"))
        #expect(found.contains("upstreams.bad.retries: must be between 0 and 5"))
        #expect(found.contains("routes[0].match.path_prefix: must start with /"))
        #expect(found.contains("routes[0].upstream: no upstream named missing"))
        #expect(found.contains("routes[1].name: a is used twice"))
        #expect(found.contains("routes[1].match: give exactly one of path_prefix and path"))
        #expect(found.contains { $0.hasPrefix("routes[1].module: crm does not run in this process") })
        #expect(found.contains("routes[1].permissions: not a permission is not resource:action"))
        #expect(found.contains("routes[1].rate_limits[0].key: must be api_key, user, tenant or ip"))
        #expect(found.contains("routes[1].rate_limits[0].limit: must be at least 1"))
        #expect(found.contains("routes[1].inspection: must be block, log or off"))
        #expect(found.count == 12)
    }

    @Test func syntaxAndTypeErrorsNameTheirPlace() {
        #expect(problems(#"{"routes": [{"name": 3}]}"#).first?.hasPrefix("routes[0].name: expected") == true)
        #expect(problems(#"{"routes": [{"name": "x"}]}"#) == ["routes[0]: missing required key match"])
        #expect(problems("{not json").first?.contains("not valid JSON") == true)
    }

    @Test func aPublicRouteCannotRequirePermissions() {
        let found = problems(
            #"{"routes": [{"name": "r", "match": {"path_prefix": "/"}, "module": "identity", "auth": "public", "permissions": ["crm.leads:read"]}]}"#
        )
        #expect(found == ["routes[0].permissions: a public route cannot require permissions"])
    }

    @Test func rewritePathMayOnlyUseParametersOfTheTemplate() {
        let found = problems(
            #"{"routes": [{"name": "r", "match": {"path": "/old/{id}"}, "module": "identity", "transform": {"rewrite_path": "/new/{id}/{other}"}}]}"#
        )
        #expect(found == ["routes[0].transform.rewrite_path: {other} is not a parameter of match.path"])
    }

    @Test func templatesRejectPartialSegmentParameters() {
        #expect(PathMatcher.template("/a/x{id}") == nil)
        #expect(PathMatcher.template("/a/{}") == nil)
        #expect(PathMatcher.template("a/{id}") == nil)
        #expect(PathMatcher.template("/a/{id}")?.match("/a/7") == ["id": "7"])
        #expect(PathMatcher.template("/a/{id}")?.match("/a/") == nil)
    }
}
