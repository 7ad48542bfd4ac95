import Foundation
import HTTPTypes
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import Identity

@Suite struct IdentityMaintenanceTests {
    static func count(_ app: IdentityHarness, _ table: String, tenant: TenantID) async throws -> Int {
        try await app.database.read(tenant: tenant) { tx in
            try await tx.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(
                column: "n", as: Int.self) ?? 0
        }
    }

    @Test(arguments: TestBackend.available)
    func maintenanceRemovesDeadSecretsAndAuditPastRetentionKeepingTheChainVerifiable(_ backend: TestBackend)
        async throws
    {
        try await withIdentityApp(backend) { app in
            let (admin, signup) = try await app.signup(slug: "acme")
            let tenant = try #require(TenantID((signup.json["tenant"] as? [String: Any])?["id"] as? String ?? ""))
            _ = try await app.call(.patch, "/api/v1/identity/tenant", token: admin, json: ["audit_retention_days": 30])
            let refresh = try #require((signup.json["tokens"] as? [String: Any])?["refresh_token"] as? String)
            #expect(try await app.call(.post, "/api/v1/identity/logout", token: admin).status == .noContent)
            let before = try await Self.count(app, "identity_refresh_tokens", tenant: tenant)
            #expect(before == 1)

            // Nothing is old enough yet.
            let early = try await IdentityMaintenance.run(database: app.database, now: app.clock.now())
            #expect(early == .init(auditRecords: 0, secrets: 0))

            app.clock.advance(by: 31 * 86_400)
            let login = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            #expect(login.status == .ok)
            let report = try await IdentityMaintenance.run(database: app.database, now: app.clock.now())
            // The revoked session's token and the sign-up's verification link are gone; the new session's token stays.
            #expect(report.secrets == 2)
            #expect(report.auditRecords > 0)
            #expect(try await Self.count(app, "identity_refresh_tokens", tenant: tenant) == 1)
            let refused = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": refresh])
            #expect(refused.status == .unauthorized)
            let verification = try await app.database.read(tenant: tenant) { tx in try await AuditTrail().verify(in: tx)
            }
            #expect(verification.isIntact)
            #expect((verification.firstSequence ?? 0) > 1)
        }
    }
}
