import Foundation
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

/// Secrets at rest: the box, the key file, the installation's key registry and re-sealing.
@Suite struct SecretBoxTests {
    static let column = SecretColumn(table: "notes", column: "secret", tenantOwned: true)
    static let other = SecretColumn(table: "notes", column: "other", tenantOwned: true)

    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-keys-\(UUID().uuidString)")
            .appendingPathComponent("secrets.key").path
    }

    @Test func aSealedValueOpensOnlyInItsColumnAndTenantAndUnaltered() throws {
        let box = SecretBox.ephemeral()
        let tenant = TenantID.generate()
        let sealed = try box.seal("whsec_abc", in: Self.column, tenant: tenant)
        #expect(sealed.hasPrefix("sealed:v1:\(box.keyring.current().id):"))
        #expect(!sealed.contains("whsec_abc"))
        #expect(try box.open(sealed, in: Self.column, tenant: tenant) == "whsec_abc")
        // A fresh nonce each time: the same secret never seals to the same text.
        #expect(try box.seal("whsec_abc", in: Self.column, tenant: tenant) != sealed)
        #expect(throws: SecretError.self) { try box.open(sealed, in: Self.other, tenant: tenant) }
        #expect(throws: SecretError.self) { try box.open(sealed, in: Self.column, tenant: .generate()) }
        #expect(throws: SecretError.self) { try box.open(sealed, in: Self.column, tenant: nil) }
        var altered = Array(sealed)
        altered[altered.count - 3] = altered[altered.count - 3] == "A" ? "B" : "A"
        #expect(throws: SecretError.self) { try box.open(String(altered), in: Self.column, tenant: tenant) }
        #expect(throws: SecretError.self) { try SecretBox.ephemeral().open(sealed, in: Self.column, tenant: tenant) }
        #expect(throws: SecretError.self) { try box.open("whsec_abc", in: Self.column, tenant: tenant) }
        // A column declared as holding another's values (a webhook's previous secret) opens them.
        let previous = SecretColumn(table: "notes", column: "previous", tenantOwned: true, sealedAs: Self.column)
        #expect(try box.open(sealed, in: previous, tenant: tenant) == "whsec_abc")
    }

    @Test func keysAreParsedStrictly() throws {
        let key = SecretKeyring.Key.generate()
        #expect(try SecretKeyring.parse("# comment\n\(key.line)\n", separator: "\n").map(\.id) == [key.id])
        for bad in [
            "", "k1", "k1:", "k1:c2hvcnQ=", "k-1:\(key.line.split(separator: ":")[1])", "\(key.line),\(key.line)",
        ] {
            #expect(throws: SecretError.self, "\(bad)") { try SecretKeyring.parse(bad, separator: ",") }
        }
    }

    /// Started with no key configured, the key file is made (mode 0600); a second process reading the same file
    /// opens what the first sealed; after a rotation written to the file, it seals under the new key and opens
    /// values sealed under it, without being restarted.
    @Test func theKeyFileIsMadeOnceSharedAndReadAgainWhenItChanges() throws {
        let path = Self.temporaryPath()
        var configuration = InopsioConfiguration()
        configuration.secretsKeyFile = path
        let first = try SecretKeyring.configured(configuration, logger: TestEnvironment.logger)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let second = try SecretKeyring.configured(configuration, logger: TestEnvironment.logger)
        #expect(first.keys.map(\.id) == second.keys.map(\.id))
        let tenant = TenantID.generate()
        let old = try SecretBox(keyring: first).seal("s1", in: Self.column, tenant: tenant)
        #expect(try SecretBox(keyring: second).open(old, in: Self.column, tenant: tenant) == "s1")

        let new = SecretKeyring.Key.generate()
        try first.install(new)
        #expect(first.keys.map(\.id) == [new.id] + second.keys.map(\.id))
        let sealedNew = try SecretBox(keyring: first).seal("s2", in: Self.column, tenant: tenant)
        #expect(SecretBox.keyID(of: sealedNew) == new.id)
        #expect(try SecretBox(keyring: second).open(sealedNew, in: Self.column, tenant: tenant) == "s2")
        #expect(second.current().id == new.id)
        #expect(try SecretBox(keyring: second).open(old, in: Self.column, tenant: tenant) == "s1")

        try first.remove(id: new.id)
        #expect(second.current().id != new.id)
        #expect(throws: SecretError.self) { try first.remove(id: first.current().id) }
    }

    /// Processes started at once on one data directory make one key file between them, not one each.
    @Test func keyringsMadeAtOnceShareOneKey() async throws {
        var configuration = InopsioConfiguration()
        configuration.secretsKeyFile = Self.temporaryPath()
        let settings = configuration
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try SecretKeyring.configured(settings, logger: TestEnvironment.logger).current().id
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
    }

    @Test(arguments: TestBackend.available)
    func theRegistryRefusesAProcessWithOtherKeys(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let a = SecretKeyring.Key.generate()
            let b = SecretKeyring.Key.generate()
            try await SecretKeyRegistry.check(try SecretKeyring(keys: [a]), database: database)
            try await SecretKeyRegistry.check(try SecretKeyring(keys: [a]), database: database)
            // Another installation's key (a process that made its own key file).
            await #expect(throws: SecretError.self) {
                try await SecretKeyRegistry.check(try SecretKeyring(keys: [b]), database: database)
            }
            await #expect(throws: SecretError.self) {
                try await SecretKeyRegistry.check(try SecretKeyring(keys: [b, a]), database: database)
            }
            // The same id with other key material.
            let forged = try #require(
                try SecretKeyring.parse(
                    "\(a.id):\(SecretKeyring.Key.generate().line.split(separator: ":")[1])", separator: ","
                ).first)
            await #expect(throws: SecretError.self) {
                try await SecretKeyRegistry.check(try SecretKeyring(keys: [forged]), database: database)
            }
            // A rotation registers b; processes then need both until a is retired.
            try await SecretKeyRegistry.register(b, database: database)
            try await SecretKeyRegistry.check(try SecretKeyring(keys: [b, a]), database: database)
            try await SecretKeyRegistry.check(try SecretKeyring(keys: [a, b]), database: database)
            await #expect(throws: SecretError.self) {
                try await SecretKeyRegistry.check(try SecretKeyring(keys: [b]), database: database)
            }
            try await SecretKeyRegistry.retire(id: a.id, database: database)
            try await SecretKeyRegistry.check(try SecretKeyring(keys: [b]), database: database)
            await #expect(throws: SecretError.self) {
                try await SecretKeyRegistry.check(try SecretKeyring(keys: [a, b]), database: database)
            }
        }
    }

    static let notes = Migration(module: "notes", number: 1, name: "create_notes") { dialect in
        [
            "CREATE TABLE notes (tenant_id \(dialect.uuidType) NOT NULL, id INTEGER NOT NULL, secret TEXT, PRIMARY KEY (tenant_id, id))"
        ] + TenantIsolation.statements(table: "notes", dialect: dialect)
    }

    /// The migration step seals plaintext of every tenant (row-level security on); a rotation re-seals every value
    /// under the new key. (A value a server changes during the pass is left to the server by the `UPDATE`'s
    /// `WHERE column = <old>`; no test forces that race.)
    @Test(arguments: TestBackend.available)
    func plaintextIsSealedAndRotationResealsEveryTenantsValues(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
            var tenants: [TenantID] = []
            for slug in ["seal-a", "seal-b"] {
                let tenant = try await TenantStore(database: database).create(slug: slug, name: slug).id
                tenants.append(tenant)
                try await database.write(tenant: tenant) { tx in
                    for id in 1...3 {
                        try await tx.sql.raw(
                            "INSERT INTO notes (tenant_id, id, secret) VALUES (\(tx.bind(tenant)), \(bind: id), \(bind: "\(slug)-\(id)"))"
                        ).run()
                    }
                    try await tx.sql.raw(
                        "INSERT INTO notes (tenant_id, id, secret) VALUES (\(tx.bind(tenant)), 4, NULL)"
                    ).run()
                }
            }
            let old = SecretKeyring.Key.generate()
            let keyring = try SecretKeyring(keys: [old])
            let box = SecretBox(keyring: keyring)
            let sealed = try await database.system { tx in
                try await SecretResealer.sealPlaintext(columns: [Self.column], secrets: box, in: tx)
            }
            #expect(sealed == 6)
            #expect(try await SecretResealer.census(columns: [Self.column], database: database) == [old.id: 6])

            // The new key: what a rotation with another key first would seal under.
            let new = SecretKeyring.Key.generate()
            let rotated = SecretBox(keyring: try SecretKeyring(keys: [new, old]))
            let report = try await SecretResealer.reseal(columns: [Self.column], secrets: rotated, database: database)
            #expect(report == SecretResealer.Report(resealed: 6, changedMeanwhile: 0))
            #expect(try await SecretResealer.census(columns: [Self.column], database: database) == [new.id: 6])
            for (tenant, slug) in zip(tenants, ["seal-a", "seal-b"]) {
                let values = try await database.read(tenant: tenant) { tx in
                    try await tx.sql.raw(
                        "SELECT secret FROM notes WHERE secret IS NOT NULL AND tenant_id = \(tx.bind(tenant)) ORDER BY id"
                    ).all()
                        .map { try $0.decode(column: "secret", as: String.self) }
                }
                #expect(
                    try values.map { try rotated.open($0, in: Self.column, tenant: tenant) }
                        == (1...3).map { "\(slug)-\($0)" })
            }
            // Without the values' key, nothing opens: a rotation without the old key fails and changes nothing.
            let lost = SecretBox(keyring: try SecretKeyring(keys: [.generate()]))
            await #expect(throws: SecretError.self) {
                try await SecretResealer.reseal(columns: [Self.column], secrets: lost, database: database)
            }
            #expect(try await SecretResealer.census(columns: [Self.column], database: database) == [new.id: 6])
        }
    }
}
