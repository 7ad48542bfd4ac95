import Foundation
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

/// A task cancelled inside a write transaction (a service stopped mid-work) rolls the transaction back and leaves
/// its connection usable: the next transaction on it begins and commits.
@Suite struct CancelledTransactionTests {
    static let table = Migration(module: "cancel", number: 1, name: "create_items") { _ in
        ["CREATE TABLE cancel_items (name TEXT NOT NULL)"]
    }

    @Test(arguments: TestBackend.available)
    func aCancelledTransactionIsRolledBackAndTheDatabaseGoesOn(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + [Self.table]) { database, _ in
            let inside = AsyncStream<Void>.makeStream()
            let task = Task {
                try await database.system { tx in
                    try await tx.sql.raw("INSERT INTO cancel_items (name) VALUES ('lost')").run()
                    inside.continuation.yield()
                    // Cancelled here; the query after the sleep would also see the cancellation.
                    try await Task.sleep(for: .seconds(30))
                    try await tx.sql.raw("INSERT INTO cancel_items (name) VALUES ('never')").run()
                }
            }
            var iterator = inside.stream.makeAsyncIterator()
            await iterator.next()
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            // Several transactions after it, more than the pool has connections: each must work.
            for index in 0..<8 {
                try await database.system { tx in
                    try await tx.sql.raw("INSERT INTO cancel_items (name) VALUES (\(bind: "kept\(index)"))").run()
                }
            }
            let names = try await database.systemRead { tx in
                try await tx.sql.raw("SELECT name FROM cancel_items ORDER BY name").all().map {
                    try $0.decode(column: "name", as: String.self)
                }
            }
            #expect(names == (0..<8).map { "kept\($0)" })
        }
    }
}
