import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import NIOCore
import NIOEmbedded
import Platform
import TestSupport
import Testing

@testable import Identity

/// The gateway's fast path asks the authenticator for a decision from memory: it must give exactly the ordinary
/// answer when it gives one, and give none whenever a database read would be needed.
@Suite struct CachedAuthenticationTests {
    @Test(arguments: TestBackend.available)
    func cachedDecisionsMatchTheOrdinaryOnesAndNeedAVerifiedToken(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, _) = try await app.signup(slug: "cached")
            let authenticator = app.services.authenticator
            let header = "Bearer \(token)"
            // Never verified: nothing from memory.
            #expect(authenticator.cachedAuthentication(authorization: header) == nil)
            let request = Request(
                head: HTTPRequest(
                    method: .get, scheme: "http", authority: "localhost", path: "/",
                    headerFields: [.authorization: header]),
                body: .init(buffer: ByteBuffer()))
            let context = AppRequestContext(
                source: .init(channel: EmbeddedChannel(), logger: TestEnvironment.logger))
            let ordinary = try #require(try await authenticator.authenticate(request, context: context))
            let cached = try #require(authenticator.cachedAuthentication(authorization: header))
            #expect(cached.tenant == ordinary.tenant)
            #expect(cached.principal.subject == ordinary.principal.subject)
            #expect(cached.principal.permissions == ordinary.principal.permissions)
            #expect(cached.principal.kind == ordinary.principal.kind)
            // A token nobody verified, an API key and a malformed header are never decided from memory.
            #expect(authenticator.cachedAuthentication(authorization: "Bearer \(token)x") == nil)
            #expect(authenticator.cachedAuthentication(authorization: "Bearer inop_abc") == nil)
            #expect(authenticator.cachedAuthentication(authorization: "Basic abc") == nil)
            // A suspended tenant: once the cached status is gone (invalidated here, or after its few seconds), no
            // decision from memory; the ordinary path reads the new status and refuses.
            _ = try await TenantStore(database: app.database).setStatus(.suspended, of: ordinary.tenant)
            app.services.tenants.invalidate(ordinary.tenant)
            #expect(authenticator.cachedAuthentication(authorization: header) == nil)
            await #expect(throws: Problem.self) { try await authenticator.authenticate(request, context: context) }
            #expect(authenticator.cachedAuthentication(authorization: header) == nil)
        }
    }
}
