import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import Kernel
import NIOCore
import Platform
import Prometheus
import TestSupport
import Testing

/// Cheap scrypt parameters for tests (1 MiB); the real default is measured in BENCHMARKS.md.
let testHashing = PasswordHashParameters(logN: 10, r: 8, p: 1)

/// A test application with the Identity module on a throwaway database, a hand-moved clock and helpers for
/// JSON calls.
struct IdentityHarness: Sendable {
    let client: any TestClientProtocol
    let clock: ManualClock
    let database: any Database
    let services: IdentityServices
    /// Where the file transport writes the mail this app sends.
    let mailDirectory: URL

    /// The messages sent so far, oldest first, as raw RFC 5322 text.
    func sentMail() throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: mailDirectory.path)) ?? []
        return try names.filter { $0.hasSuffix(".eml") }.sorted().map {
            try String(contentsOf: mailDirectory.appendingPathComponent($0), encoding: .utf8)
        }
    }

    /// The first link with `path` in the last message to `recipient` (quoted-printable soft breaks undone).
    func link(to recipient: String, path: String) throws -> String? {
        guard let message = try sentMail().last(where: { $0.contains(recipient) }) else { return nil }
        let unfolded = message.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
        guard let start = unfolded.range(of: path) else { return nil }
        let tail = unfolded[start.lowerBound...]
        return String(tail.prefix { !$0.isWhitespace && $0 != "\"" && $0 != "<" })
    }

    /// Any answer: status, headers and the body as JSON (or text).
    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
        }

        func string(_ key: String) -> String? { json[key] as? String }
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: [String: Any]? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    /// A new tenant with its admin; returns the admin's access token and the whole sign-up answer.
    func signup(slug: String, email: String = "admin@example.com", password: String = "correct horse battery")
        async throws -> (token: String, reply: Reply)
    {
        let reply = try await call(
            .post, "/api/v1/identity/signup",
            json: [
                "tenant_slug": slug, "tenant_name": "Org \(slug)", "name": "Ada Admin", "email": email,
                "password": password,
            ])
        #expect(reply.status == .created, "\(reply.body)")
        let tokens = reply.json["tokens"] as? [String: Any]
        return (tokens?["access_token"] as? String ?? "", reply)
    }

    func login(tenant: String, email: String, password: String, totp: String? = nil) async throws -> Reply {
        var body: [String: Any] = ["tenant": tenant, "email": email, "password": password]
        if let totp { body["totp_code"] = totp }
        return try await call(.post, "/api/v1/identity/login", json: body)
    }
}

/// Runs `body` against the Identity module on `backend`.
func withIdentityApp(
    _ backend: TestBackend, lifetimes: TokenLifetimes = TokenLifetimes(),
    _ body: @Sendable (IdentityHarness) async throws -> Void
) async throws {
    let module = IdentityModule(passwordHashing: testHashing, lifetimes: lifetimes)
    try await withTestDatabase(backend, migrations: PlatformMigrations.all + module.migrations) {
        database, configuration in
        let clock = ManualClock()
        let context = ModuleContext(
            database: database, configuration: configuration, logger: TestEnvironment.logger,
            web: try WebKit.bundled(navigation: [], modules: [IdentityModule()]), clock: clock,
            permissions: module.permissions + [
                "crm.leads:read", "crm.leads:write", "crm.leads:delete", "security.alerts:read",
            ],
            moduleNames: ["identity", "crm"],
            mailer: Mailer(
                transport: FileMailTransport(directory: URL(fileURLWithPath: configuration.dataDirectory + "/mail")),
                from: MailAddress("no-reply@example.com", name: "Inopsio")))
        let router = try PlatformRouter.build(
            modules: [module], context: context, metrics: HTTPMetrics(registry: PrometheusCollectorRegistry()),
            accessLog: nil)
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await body(
                IdentityHarness(
                    client: client, clock: clock, database: database, services: module.services(context),
                    mailDirectory: URL(fileURLWithPath: configuration.dataDirectory + "/mail")))
        }
    }
}
