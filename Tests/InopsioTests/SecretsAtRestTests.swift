import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kernel
import NIOCore
import Platform
import SQLKit
import TestSupport
import Testing

@testable import Identity
@testable import Inopsio

/// Issue 19, point 7: signing keys, TOTP secrets, webhook secrets, identity providers' client secrets and the link
/// key are stored sealed; the database read directly holds none of them in plaintext, and values stored in
/// plaintext by an earlier version are sealed by a migration.
@Suite struct SecretsAtRestTests {
    /// Everything that stores a secret, made through the API; returns the plaintexts the API handed out.
    struct Made {
        let tenant: TenantID
        let totpSecret: String
        let clientSecret: String
        let webhookSecrets: [String]
    }

    static func makeSecrets(_ api: DocumentedAPI, slug: String) async throws -> Made {
        let (token, _) = try await api.signUp(slug: slug)
        let enrolled = try await api.post("/api/v1/identity/users/me/mfa/totp", body: [:], token: token)
        #expect(enrolled.status == .created, "\(enrolled.body)")
        guard case .object(let enrollment)? = enrolled.json, case .string(let totpSecret)? = enrollment["secret"],
            let secretBytes = Base32.decode(totpSecret)
        else { throw DocumentedAPIError.setUpFailed(enrolled.body) }
        let code = TOTP(secret: secretBytes).code(step: TOTP.step(at: Date()) - 1)
        let confirmed = try await api.post(
            "/api/v1/identity/users/me/mfa/totp/confirm", body: ["code": .string(code)], token: token)
        #expect(confirmed.status == .ok, "\(confirmed.body)")

        let clientSecret = "github-client-secret-\(UUID().uuidString)"
        let provider = try await api.post(
            "/api/v1/identity/providers",
            body: [
                "kind": "github", "name": "GitHub", "issuer": "https://github.com", "client_id": "Iv1.abc",
                "client_secret": .string(clientSecret),
            ], token: token)
        #expect(provider.status == .created, "\(provider.body)")

        let webhook = try await api.post(
            "/api/v1/messaging/webhooks",
            body: ["url": "https://198.51.100.7/inopsio", "event_types": ["crm.lead.created"]], token: token)
        #expect(webhook.status == .created, "\(webhook.body)")
        guard case .object(let created)? = webhook.json, case .string(let first)? = created["secret"],
            case .string(let id)? = created["id"]
        else { throw DocumentedAPIError.setUpFailed(webhook.body) }
        let rotated = try await api.post("/api/v1/messaging/webhooks/\(id)/rotate-secret", body: [:], token: token)
        guard case .object(let again)? = rotated.json, case .string(let second)? = again["secret"] else {
            throw DocumentedAPIError.setUpFailed(rotated.body)
        }
        // A tracking link with a made-up token: the link key is made on first use.
        let tracked = try await api.client.execute(uri: "/messaging/t/o/made-up", method: .get) { $0.status }
        #expect(tracked == .notFound)

        let tenant = try #require(try await TenantStore(database: api.database).find(slug: slug)).id
        return Made(
            tenant: tenant, totpSecret: totpSecret, clientSecret: clientSecret, webhookSecrets: [first, second])
    }

    /// The values of `column` (the tenant's, for a tenant-owned column).
    static func values(_ column: SecretColumn, tenant: TenantID, _ database: any Database) async throws -> [String] {
        let query = SQLQueryString(
            "SELECT \(unsafeRaw: column.column) AS value FROM \(unsafeRaw: column.table) WHERE \(unsafeRaw: column.column) IS NOT NULL"
        )
        let rows = try await database.read(tenant: tenant) { tx in try await tx.sql.raw(query).all() }
        return try rows.map { try $0.decode(column: "value", as: String.self) }
    }

    /// Every text value of every table, read the way a database dump sees them (the tenant's rows included).
    static func everyText(_ database: any Database, tenant: TenantID) async throws -> [String] {
        try await database.read(tenant: tenant) { tx in
            let tablesQuery: SQLQueryString =
                tx.dialect == .postgres
                ? "SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
                : "SELECT name FROM sqlite_master WHERE type = 'table'"
            let tables = try await tx.sql.raw(tablesQuery).all().map { try $0.decode(column: "name", as: String.self) }
            var texts: [String] = []
            for table in tables {
                for row in try await tx.sql.raw("SELECT * FROM \(ident: table)").all() {
                    for column in row.allColumns {
                        if let text = try? row.decode(column: column, as: String.self) { texts.append(text) }
                    }
                }
            }
            return texts
        }
    }

    /// The plaintexts the box opens from every declared column, by column.
    static func opened(_ api: DocumentedAPI, tenant: TenantID) async throws -> [SecretColumn: [String]] {
        var result: [SecretColumn: [String]] = [:]
        for column in api.modules.flatMap(\.secretColumns) {
            let owner = column.tenantOwned ? tenant : nil
            result[column] = try await values(column, tenant: tenant, api.database).map {
                try api.secrets.open($0, in: column, tenant: owner)
            }
        }
        return result
    }

    @Test(arguments: TestBackend.available)
    func theDatabaseHoldsNoSecretInPlaintext(_ backend: TestBackend) async throws {
        try await DocumentedAPI.with(backend) { api in
            let made = try await Self.makeSecrets(api, slug: "sealed-\(backend)")
            let columns = api.modules.flatMap(\.secretColumns)
            #expect(
                Set(columns.map(\.description)).isSuperset(of: [
                    "identity_signing_keys.private_key", "identity_users.totp_secret",
                    "identity_providers.client_secret",
                    "messaging_keys.secret", "messaging_webhook_endpoints.secret",
                    "messaging_webhook_endpoints.previous_secret",
                ]))
            for column in columns {
                let stored = try await Self.values(column, tenant: made.tenant, api.database)
                #expect(!stored.isEmpty, "nothing stored in \(column)")
                #expect(stored.allSatisfy { $0.hasPrefix("sealed:v1:") }, "\(column): \(stored)")
            }
            let opened = try await Self.opened(api, tenant: made.tenant)
            #expect(opened[IdentitySecrets.totp] == [made.totpSecret])
            #expect(opened[IdentitySecrets.providerClientSecret] == [made.clientSecret])
            let webhookColumns = columns.filter { $0.table == "messaging_webhook_endpoints" }
            #expect(Set(webhookColumns.flatMap { opened[$0] ?? [] }) == Set(made.webhookSecrets))
            // What a dump shows: none of the plaintexts, nor the body of a signing key, anywhere.
            let plaintexts =
                [made.totpSecret, made.clientSecret] + made.webhookSecrets
                + (opened[IdentitySecrets.signingKey] ?? []).flatMap { pem in
                    pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
                } + columns.filter { $0.table == "messaging_keys" }.flatMap { opened[$0] ?? [] }
            #expect(plaintexts.count >= 7)
            let texts = try await Self.everyText(api.database, tenant: made.tenant)
            for plaintext in plaintexts {
                #expect(!texts.contains { $0.contains(plaintext) }, "found in plaintext: \(plaintext.prefix(12))...")
            }
        }
    }

    /// An installation upgraded from a version that stored secrets in plaintext: the migrations seal them, and
    /// sign-in with the TOTP secret stored before still works.
    @Test(arguments: TestBackend.available)
    func plaintextFromAnEarlierVersionIsSealedByTheMigrations(_ backend: TestBackend) async throws {
        try await DocumentedAPI.with(backend) { api in
            let slug = "upgraded-\(backend)"
            let made = try await Self.makeSecrets(api, slug: slug)
            let before = try await Self.opened(api, tenant: made.tenant)
            // The earlier version: every secret in plaintext, the sealing migrations not applied.
            for (column, plaintexts) in before {
                let stored = try await Self.values(column, tenant: made.tenant, api.database)
                for (sealed, plaintext) in zip(stored, plaintexts) {
                    let update = SQLQueryString(
                        "UPDATE \(unsafeRaw: column.table) SET \(unsafeRaw: column.column) = \(bind: plaintext) WHERE \(unsafeRaw: column.column) = \(bind: sealed)"
                    )
                    try await api.database.write(tenant: made.tenant) { tx in try await tx.sql.raw(update).run() }
                }
            }
            try await api.database.system { tx in
                try await tx.sql.raw(
                    "DELETE FROM inopsio_migrations WHERE name = 'seal_secrets'"
                ).run()
            }
            #expect(try await Self.values(IdentitySecrets.totp, tenant: made.tenant, api.database) == [made.totpSecret])

            let runner = try MigrationRunner(
                database: api.database, migrations: PlatformMigrations.all + api.modules.flatMap(\.migrations),
                logger: TestEnvironment.logger, services: MigrationServices(secrets: api.secrets))
            #expect(Set(try await runner.apply()) == ["identity#7 seal_secrets", "messaging#4 seal_secrets"])

            for column in before.keys {
                let stored = try await Self.values(column, tenant: made.tenant, api.database)
                #expect(stored.allSatisfy { $0.hasPrefix("sealed:v1:") }, "\(column): \(stored)")
            }
            #expect(try await Self.opened(api, tenant: made.tenant) == before)

            // The TOTP secret sealed by the migration is the one the user's authenticator has.
            let code = TOTP(secret: try #require(Base32.decode(made.totpSecret))).code(
                step: TOTP.step(at: Date()) + 1)
            let body: JSONValue = [
                "tenant": .string(slug), "email": .string("admin@\(slug).example"),
                "password": "correct horse battery staple", "totp_code": .string(code),
            ]
            let status = try await api.client.execute(
                uri: "/api/v1/identity/login", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: body.jsonText)
            ) { $0.status }
            #expect(status == .ok)
        }
    }
}
