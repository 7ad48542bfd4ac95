import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kernel
import Logging
import NIOCore
import Platform
import Prometheus
import TestSupport
import Testing

/// Routes that exist only in these tests, to drive the platform middleware through every error path.
struct ProbeModule: Module {
    let name = "probe"

    struct Echo: Codable, JSONRequestBody {
        let name: String
        let count: Int
        static let fieldNames: Set<String> = ["name", "count"]
    }

    struct SecretFailure: Error {
        let detail = "password=hunter2 at db.internal:5432"
    }

    func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        routes.post("/api/v1/probe/echo") { request, context -> Response in
            let echo = try await JSONBody.decode(Echo.self, from: request, context: context)
            return Response(
                status: .created, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"name":"\#(echo.name)"}"#)))
        }
        routes.post("/api/v1/probe/value") { request, context -> Response in
            let value = try await JSONBody.decode(JSONValue.self, from: request, context: context)
            return try JSONResponse.make(value)
        }
        routes.get("/api/v1/probe/boom") { _, _ -> Response in throw SecretFailure() }
        routes.get("/api/v1/probe/conflict") { _, _ -> Response in throw DomainError.conflict("already there") }
        routes.get("/api/v1/probe/items/:id") { _, context -> Response in
            throw DomainError.notFound(entity: "item")
        }
        routes.get("/api/v1/probe/secure") { _, context -> Response in
            try context.require("probe.items:write")
            return Response(status: .noContent)
        }
    }
}

/// Builds the platform router on a throwaway SQLite database and runs `body` with an in-process test client.
func withPlatformApp(
    modules: [any Module] = [ProbeModule()], migrations: [Migration] = PlatformMigrations.all,
    configure: @Sendable (inout InopsioConfiguration) -> Void = { _ in }, accessLog: LogSink? = nil,
    _ body: @Sendable (any TestClientProtocol, HTTPMetrics) async throws -> Void
) async throws {
    try await withTestDatabase(.sqlite, migrations: migrations) { database, base in
        var configuration = base
        configure(&configuration)
        let web = try WebKit.bundled(navigation: [NavigationItem(labelKey: "nav.home", href: "/")])
        let context = ModuleContext(
            database: database, configuration: configuration, logger: TestEnvironment.logger, web: web,
            mailer: Mailer(
                transport: FileMailTransport(directory: URL(fileURLWithPath: configuration.dataDirectory + "/mail")),
                from: MailAddress("no-reply@example.com")))
        let metrics = HTTPMetrics(registry: PrometheusCollectorRegistry())
        let router = try PlatformRouter.build(
            modules: modules, context: context, metrics: metrics, accessLog: accessLog)
        let app = Application(router: router, logger: TestEnvironment.logger)
        try await app.test(.router) { client in try await body(client, metrics) }
    }
}

/// The response body as a JSON object; records an issue (and returns an empty object) when it is not one.
func json(_ response: TestResponse) -> [String: Any] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] else {
        Issue.record("response body is not a JSON object: \(String(buffer: response.body))")
        return [:]
    }
    return object
}

@Suite struct HTTPKitTests {
    @Test func healthAnswersOK() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(json(response)["status"] as? String == "ok")
            }
        }
    }

    @Test func readyIsOKWhenMigrated() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""migrations":"ok""#))
            }
        }
    }

    @Test func readyIs503WhileMigrationsArePending() async throws {
        // The database holds no migrations at all; the process expects the platform's.
        try await withPlatformApp(migrations: []) { client, _ in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("pending"))
            }
        }
    }

    @Test func unknownRouteIs404ProblemJSON() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/api/v1/nothing/here", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = json(response)
                #expect(body["status"] as? Int == 404)
                #expect(body["instance"] as? String == "/api/v1/nothing/here")
                #expect((body["request_id"] as? String)?.isEmpty == false)
                #expect(body["request_id"] as? String == response.headers[.xRequestID])
            }
        }
    }

    @Test func wrongMethodIs405WithAllowHeader() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/health", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/api/v1/probe/items/42", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
            }
        }
    }

    @Test func malformedJSONIs400() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(
                uri: "/api/v1/probe/echo", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"name\": \"x\", ")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(json(response)["title"] as? String == "Malformed JSON")
            }
        }
    }

    /// Untyped bodies (`JSONValue`) are read by Kernel's parser: the same values, and the same refusals, as typed ones.
    @Test func untypedBodiesAreParsedAndMalformedOnesRefused() async throws {
        try await withPlatformApp { client, _ in
            let document = #"{"b": [1, 2.5, "x\u00e9", null, true], "a": {"n": -9223372036854775808}}"#
            try await client.execute(
                uri: "/api/v1/probe/value", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: document)
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"a":{"n":-9223372036854775808},"b":[1,2.5,"xé",null,true]}"#)
            }
            let malformed: [ByteBuffer] = [
                ByteBuffer(string: #"{"a": 1,}"#), ByteBuffer(string: "[1] 2"), ByteBuffer(string: #""\ud83c""#),
                ByteBuffer(bytes: Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
                ByteBuffer(string: String(repeating: "[", count: 600) + String(repeating: "]", count: 600)),
            ]
            for body in malformed {
                try await client.execute(
                    uri: "/api/v1/probe/value", method: .post, headers: [.contentType: "application/json"], body: body
                ) { response in
                    #expect(response.status == .badRequest)
                    #expect(json(response)["title"] as? String == "Malformed JSON")
                }
            }
        }
    }

    @Test func wrongShapeNamesTheField() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(
                uri: "/api/v1/probe/echo", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"name": "x", "count": "three"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                let errors = try #require(json(response)["errors"] as? [[String: Any]])
                #expect(errors.first?["field"] as? String == "count")
                #expect(errors.first?["code"] as? String == "invalid_type")
            }
            try await client.execute(
                uri: "/api/v1/probe/echo", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"name": "x"}"#)
            ) { response in
                let errors = try #require(json(response)["errors"] as? [[String: Any]])
                #expect(errors.first?["field"] as? String == "count")
                #expect(errors.first?["code"] as? String == "required")
            }
        }
    }

    @Test func unknownFieldsAreRefusedByName() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(
                uri: "/api/v1/probe/echo", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"name": "x", "count": 1, "cuont": 2}"#)
            ) { response in
                #expect(response.status == .badRequest)
                let errors = json(response)["errors"] as? [[String: Any]]
                #expect(errors?.first?["field"] as? String == "cuont")
                #expect(errors?.first?["code"] as? String == "unknown_field")
            }
        }
    }

    @Test func validJSONReachesTheHandler() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(
                uri: "/api/v1/probe/echo", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"name": "ok", "count": 1}"#)
            ) { response in
                #expect(response.status == .created)
            }
        }
    }

    @Test func oversizedBodyIs413ByContentLength() async throws {
        try await withPlatformApp(configure: { $0.maxBodyBytes = 1024 }) { client, _ in
            let big = ByteBuffer(string: "{\"name\":\"" + String(repeating: "a", count: 4096) + "\",\"count\":1}")
            try await client.execute(
                uri: "/api/v1/probe/echo", method: .post,
                headers: [.contentType: "application/json", .contentLength: String(big.readableBytes)], body: big
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.contentType] == "application/problem+json")
            }

        }
    }

    @Test func unexpectedErrorIsGeneric500WithoutInternals() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/api/v1/probe/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(!text.contains("hunter2"))
                #expect(!text.contains("SecretFailure"))
                #expect(json(response)["request_id"] as? String == response.headers[.xRequestID])
            }
        }
    }

    @Test func domainErrorsMapToStatusCodes() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/api/v1/probe/conflict", method: .get) { response in
                #expect(response.status == .conflict)
                #expect(json(response)["detail"] as? String == "already there")
            }
            try await client.execute(uri: "/api/v1/probe/items/1", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func unauthenticatedPermissionCheckIs401WithChallenge() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/api/v1/probe/secure", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }

    @Test func everyResponseCarriesSecurityHeaders() async throws {
        try await withPlatformApp { client, _ in
            for uri in ["/health", "/nope"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.headers[.xContentTypeOptionsName] == "nosniff")
                    #expect(response.headers[.xFrameOptionsName] == "DENY")
                    #expect(response.headers[.referrerPolicyName] != nil)
                    #expect(response.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'")
                }
            }
        }
    }

    @Test func clientRequestIDIsEchoedOnlyWhenPlain() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/health", method: .get, headers: [.xRequestID: "abc-123_X.y"]) { response in
                #expect(response.headers[.xRequestID] == "abc-123_X.y")
            }
            try await client.execute(uri: "/health", method: .get, headers: [.xRequestID: "bad id\"{}"]) { response in
                #expect(response.headers[.xRequestID] != "bad id\"{}")
                #expect(response.headers[.xRequestID]?.isEmpty == false)
            }
        }
    }

    @Test func metricsCountRequestsByRouteTemplateMethodAndStatus() async throws {
        try await withPlatformApp { client, _ in
            for _ in 0..<3 { try await client.execute(uri: "/api/v1/probe/items/7", method: .get) { _ in } }
            try await client.execute(uri: "/no/such/path", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(
                    text.contains(#"http_requests_total{route="/api/v1/probe/items/{id}",method="GET",status="404"} 3"#)
                )
                #expect(text.contains(#"http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
                #expect(text.contains("http_request_duration_seconds_bucket{route=\"/api/v1/probe/items/{id}\""))
            }
        }
    }

    @Test func accessLogWritesOneValidJSONLinePerRequest() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID()).log").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let sink = LogSink(fileDescriptor: handle.fileDescriptor, immediate: true)
        try await withPlatformApp(accessLog: sink) { client, _ in
            try await client.execute(
                uri: "/api/v1/probe/items/%22q%22", method: .get,
                headers: [.userAgent: "tester \"quoted\"\n\u{1}é", .xRequestID: "req-1"]
            ) { _ in }
            try await client.execute(uri: "/health", method: .get) { _ in }
        }
        try handle.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["http.route"] as? String == "/api/v1/probe/items/{id}")
        #expect(first["http.response.status_code"] as? Int == 404)
        #expect(first["request.id"] as? String == "req-1")
        // HTTPFields already replaced the control characters with spaces; quotes and non-ASCII survive escaping.
        #expect(first["user_agent.original"] as? String == "tester \"quoted\"  é")
        #expect((first["@timestamp"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        #expect((first["event.duration"] as? Int ?? -1) >= 0)
    }

    @Test func headIsAnsweredForGetRoutes() async throws {
        try await withPlatformApp { client, _ in
            try await client.execute(uri: "/health", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }
}

extension HTTPField.Name {
    static let xContentTypeOptionsName = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptionsName = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicyName = HTTPField.Name("Referrer-Policy")!
}
