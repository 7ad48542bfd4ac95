import Foundation
import Kernel
import SQLKit

/// The installation's secrets keys as the database knows them (`platform_secret_keys`: id, a non-secret
/// fingerprint, when retired), so that a process started with other keys is refused before it seals anything
/// others cannot open, or meets values it cannot open.
///
/// At start a process's keys are checked: the first process of an installation registers its keys; later ones must
/// have the registered current key (`rotate-key` registers a new one) and every registered key not yet retired,
/// each with the registered fingerprint.
package enum SecretKeyRegistry {
    static let lockKey: Int64 = 0x696E_6F70_7365_6B

    package static let migration = Migration(module: "platform", number: 7, name: "create_secret_keys") { dialect in
        [
            """
            CREATE TABLE platform_secret_keys (
                id TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                created_at \(dialect.timestampType) NOT NULL,
                retired_at \(dialect.timestampType)
            )
            """
        ]
    }

    package struct Entry: Sendable, Equatable {
        package let id: String
        package let fingerprint: String
        package let retired: Bool
    }

    /// Checks `keyring` against the registry, registering its keys when the registry is empty.
    package static func check(_ keyring: SecretKeyring, database: any Database) async throws {
        let keys = keyring.keys
        try await database.system { tx in
            try await lock(tx)
            var entries = try await list(in: tx)
            if entries.isEmpty {
                for key in keys { try await insert(key, in: tx) }
                entries = try await list(in: tx)
            }
            try verify(keys: keys, against: entries)
        }
    }

    static func verify(keys: [SecretKeyring.Key], against entries: [Entry]) throws {
        let registered = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
        for key in keys {
            if let entry = registered[key.id], entry.fingerprint != key.fingerprint {
                throw SecretError.noKeys(
                    "the key with id \(key.id) is not the installation's key of that id; give every process the same keys"
                )
            }
        }
        guard let current = keys.first, let entry = registered[current.id], !entry.retired else {
            throw SecretError.noKeys(
                "this process's current key \(keys.first?.id ?? "-") is not one of the installation's (\(entries.filter { !$0.retired }.map(\.id).joined(separator: ", "))); give every process the same keys, or add a key with `inopsio secrets rotate-key`"
            )
        }
        let held = Set(keys.map(\.id))
        let missing = entries.filter { !$0.retired && !held.contains($0.id) }.map(\.id)
        guard missing.isEmpty else {
            throw SecretError.noKeys(
                "this process lacks the installation's key(s) \(missing.joined(separator: ", ")), which may seal stored secrets; retire a key with `inopsio secrets retire-key` once nothing uses it"
            )
        }
    }

    /// Registers `key` (a new current key from `rotate-key`); refuses one registered with another fingerprint.
    package static func register(_ key: SecretKeyring.Key, database: any Database) async throws {
        try await database.system { tx in
            try await lock(tx)
            if let entry = try await list(in: tx).first(where: { $0.id == key.id }) {
                guard entry.fingerprint == key.fingerprint, !entry.retired else {
                    throw SecretError.noKeys("the key id \(key.id) is already registered for another or a retired key")
                }
                return
            }
            try await insert(key, in: tx)
        }
    }

    /// Marks `id` retired: processes no longer need it.
    package static func retire(id: String, database: any Database) async throws {
        try await database.system { tx in
            try await lock(tx)
            try await tx.sql.raw(
                "UPDATE platform_secret_keys SET retired_at = \(bind: Date().epochMilliseconds) WHERE id = \(bind: id)"
            ).run()
        }
    }

    package static func entries(database: any Database) async throws -> [Entry] {
        try await database.systemRead { tx in try await list(in: tx) }
    }

    private static func lock(_ tx: Transaction) async throws {
        guard tx.dialect == .postgres else { return }
        try await tx.sql.raw("SELECT pg_advisory_xact_lock(\(bind: lockKey))").run()
    }

    private static func insert(_ key: SecretKeyring.Key, in tx: Transaction) async throws {
        try await tx.sql.raw(
            """
            INSERT INTO platform_secret_keys (id, fingerprint, created_at)
            VALUES (\(bind: key.id), \(bind: key.fingerprint), \(bind: Date().epochMilliseconds))
            ON CONFLICT (id) DO NOTHING
            """
        ).run()
    }

    private static func list(in tx: Transaction) async throws -> [Entry] {
        try await tx.sql.raw("SELECT id, fingerprint, retired_at FROM platform_secret_keys ORDER BY created_at, id")
            .all().map { row in
                Entry(
                    id: try row.decode(column: "id", as: String.self),
                    fingerprint: try row.decode(column: "fingerprint", as: String.self),
                    retired: !(try row.decodeNil(column: "retired_at")))
            }
    }
}
