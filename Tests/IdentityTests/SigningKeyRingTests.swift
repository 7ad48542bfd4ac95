import Foundation
import Platform
import TestSupport
import Testing

@testable import Identity

@Suite struct SigningKeyRingTests {
    @Test(arguments: TestBackend.available)
    func rotationPublishesBeforeSigningAndKeepsTheOldKeyUntilItsTokensExpire(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + IdentityModule().migrations) {
            database, _ in
            let clock = ManualClock()
            let ring = SigningKeyRing(database: database, secrets: .ephemeral(), clock: clock, retention: 20 * 60)
            let first = try await ring.signingKey().kid
            #expect(try await ring.keySet().keys.map(\.kid) == [first])

            let (second, activation) = try await ring.rotate()
            #expect(activation == clock.now().addingTimeInterval(SigningKeyRing.activationDelay))
            #expect(Set(try await ring.keySet().keys.map(\.kid)) == [first, second])
            #expect(try await ring.signingKey().kid == first)

            clock.advance(by: SigningKeyRing.activationDelay)
            #expect(try await ring.signingKey().kid == second)
            #expect(try await ring.publicKey(kid: first) != nil)

            clock.advance(by: 20 * 60)
            #expect(try await ring.publicKey(kid: first) == nil)
            #expect(try await ring.keySet().keys.map(\.kid) == [second])
        }
    }

    @Test(arguments: TestBackend.available)
    func anotherInstancesNewKeyIsFoundOnFirstSight(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + IdentityModule().migrations) {
            database, _ in
            let clock = ManualClock()
            let secrets = SecretBox.ephemeral()
            let here = SigningKeyRing(database: database, secrets: secrets, clock: clock, retention: 20 * 60)
            let there = SigningKeyRing(database: database, secrets: secrets, clock: clock, retention: 20 * 60)
            _ = try await here.signingKey()
            let (kid, _) = try await there.rotate(immediately: true)
            // `here` loaded its cache just now, so it waits a few seconds before reloading for an unknown kid.
            #expect(try await here.publicKey(kid: kid) == nil)
            clock.advance(by: 6)
            #expect(try await here.publicKey(kid: kid) != nil)
        }
    }
}
