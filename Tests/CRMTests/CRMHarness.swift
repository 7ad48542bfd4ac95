import Foundation
import Hummingbird
import HummingbirdTesting
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import CRM

/// The CRM's routes on a throwaway database, called through Hummingbird's test client.
struct CRMHarness: Sendable {
    let client: any TestClientProtocol
    let database: any Database
    /// The module's services (its cache).
    let services: CRMServices

    static let admin = "Bearer test:ann:" + Permission.crmAll.map(\.description).joined(separator: ",")
    static let otherAdmin = "Bearer test2:olga:" + Permission.crmAll.map(\.description).joined(separator: ",")
    static let reader = "Bearer test:rita:crm.leads:read"
    static let writer = "Bearer test:will:crm.leads:read,crm.leads:write"
    /// The subject `test:ann` becomes: an owner id must be a user id (a UUID).
    static let annID = "0194a3b2-0000-7000-8000-00000000a001"

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, auth: String? = CRMHarness.admin,
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        var fields = headers
        if let auth { fields[.authorization] = auth }
        if json != nil && fields[.contentType] == nil { fields[.contentType] = "application/json" }
        return try await client.execute(
            uri: path, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            Reply(status: response.status, body: String(buffer: response.body), headers: response.headers)
        }
    }

    /// Creates a lead from `json` and returns its id (the test fails unless it was created).
    func lead(_ json: String, auth: String = CRMHarness.admin) async throws -> String {
        let reply = try await call(.post, "/api/v1/crm/leads", json: json, auth: auth)
        #expect(reply.status == .created, "\(reply.body)")
        return try #require(try reply.object()["id"] as? String)
    }

    /// The event types committed to the outbox, oldest first.
    func eventTypes() async throws -> [String] {
        try await database.system { tx in
            try await tx.sql.raw("SELECT type FROM event_outbox ORDER BY seq").all().map {
                try $0.decode(column: "type", as: String.self)
            }
        }
    }

    /// The audit log's actions for the test tenant, oldest first.
    func auditActions() async throws -> [String] {
        try await database.read(tenant: TestAuthenticator.tenant) { tx in
            try await tx.sql.raw(
                "SELECT action FROM audit_log WHERE tenant_id = \(tx.bind(TestAuthenticator.tenant)) ORDER BY seq"
            ).all().map { try $0.decode(column: "action", as: String.self) }
        }
    }
}

struct Reply: Sendable {
    let status: HTTPResponse.Status
    let body: String
    let headers: HTTPFields

    func object() throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    /// The `field`s of the problem's `errors`.
    func errorFields() throws -> [String] {
        (try object()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }.sorted()
    }

    /// The ids of a list page's `data`.
    func ids() throws -> [String] {
        (try object()["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }
}

/// `blobs` is where attachments go (by default a directory under the test's data directory); `configure` changes
/// the configuration (`max_upload_bytes` ...).
func withCRM(
    _ backend: TestBackend, blobs: (any BlobStore)? = nil,
    configure: @Sendable (inout InopsioConfiguration) -> Void = { _ in },
    _ body: @Sendable (CRMHarness) async throws -> Void
) async throws {
    let module = CRMModule()
    try await withTestDatabase(backend, migrations: PlatformMigrations.all + module.migrations) { database, given in
        var base = given
        configure(&base)
        let context = ModuleContext(
            database: database, configuration: base, logger: TestEnvironment.logger,
            web: try WebKit.bundled(navigation: [], modules: [module]), moduleNames: ["crm"],
            mailer: Mailer(
                transport: FileMailTransport(directory: URL(fileURLWithPath: base.dataDirectory)),
                from: MailAddress("crm@example.com")),
            authenticator: TestAuthenticator(), blobs: blobs)
        let router = try PlatformRouter.build(
            modules: [module], context: context, metrics: context.metrics, accessLog: nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.router) { client in
            try await body(CRMHarness(client: client, database: database, services: module.services(context)))
        }
    }
}
