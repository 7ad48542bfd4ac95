import ArgumentParser
import Foundation
import Identity
import Kernel
import Platform

/// `inopsio identity rotate-keys`: administration of the Identity module.
struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity", abstract: "Identity administration.", subcommands: [RotateKeys.self])

    /// Creates a new signing key; the previous one stays in the JWKS until the tokens it signed have expired.
    struct RotateKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-keys",
            abstract: "Start signing with a new key; the old one keeps verifying until its tokens expire.")
        @OptionGroup var options: ConfigurationOptions
        @Flag(
            help:
                "Sign with the new key at once (the old key may be compromised); instances whose key cache is up to a minute old may briefly not publish it yet."
        )
        var immediately = false

        func run() async throws {
            let immediately = immediately
            try await withInstallation(options) { database, secrets, _ in
                let ring = SigningKeyRing(
                    database: database, secrets: secrets, clock: SystemWallClock(),
                    retention: TokenLifetimes().signingKeyRetention)
                let (kid, activation) = try await ring.rotate(immediately: immediately)
                let published = try await ring.keySet().keys.map(\.kid)
                print("new key \(kid) signs from \(RFC3339.string(from: activation))")
                print("published keys: \(published.joined(separator: ", "))")
            }
        }
    }
}

/// `inopsio audit verify`: checks the hash chain of every tenant's audit log (or one tenant's).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit log maintenance.", subcommands: [Verify.self, Prune.self])

    /// Applies each tenant's `audit_retention_days` and removes secrets that can no longer be used. A running
    /// server does the same once a day; this is for operators who want it now.
    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete audit records past each tenant's retention, and dead tokens and links.")
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            try await withMigratedDatabase(options) { database in
                let report = try await IdentityMaintenance.run(database: database, now: Date())
                print("removed \(report.auditRecords) audit record(s) and \(report.secrets) expired secret(s)")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit hash chains; exit code 1 when a record was altered, inserted or removed.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Only this tenant (slug).") var tenant: String?

        func run() async throws {
            let only = tenant
            try await withMigratedDatabase(options) { database in
                let store = TenantStore(database: database)
                var tenants: [Tenant] = []
                if let only {
                    guard let found = try await store.find(slug: only) else {
                        throw fail("no tenant with slug \(only)")
                    }
                    tenants = [found]
                } else {
                    var after: String?
                    while true {
                        let page = try await store.list(limit: 200, afterSlug: after)
                        tenants += page
                        guard page.count == 200 else { break }
                        after = page.last?.slug
                    }
                }
                var damaged = 0
                for tenant in tenants {
                    let result = try await database.read(tenant: tenant.id) { tx in
                        try await AuditTrail().verify(in: tx)
                    }
                    if result.isIntact {
                        let start = result.firstSequence.map { " from record \($0)" } ?? ""
                        print("\(tenant.slug): intact, \(result.checked) record(s)\(start)")
                    } else {
                        damaged += 1
                        print("\(tenant.slug): TAMPERED")
                        for problem in result.problems { print("  \(problem)") }
                    }
                }
                if damaged > 0 { throw fail("\(damaged) tenant audit log(s) failed verification") }
            }
        }
    }
}
