import Foundation
import Kernel
import Logging
import Platform

/// The Identity module's long-lived parts for one process, built once from the module context and shared by its
/// routes and its authenticator (so both use the same key cache and permission cache).
package final class IdentityServices: Sendable {
    package let database: any Database
    package let clock: any WallClock
    package let hasher: PasswordHasher
    package let keys: SigningKeyRing
    package let tokens: TokenService
    package let permissions: PermissionResolver
    package let tenants: TenantStatusCache
    package let issuer: IssuerResolver
    package let login: LoginService
    /// Seals the secrets Identity stores (`IdentitySecrets`).
    package let secrets: SecretBox
    /// Names of the modules this process runs (for the tenant's feature flags).
    package let moduleNames: [String]
    let trail = AuditTrail()
    /// For the provider's own pages (the sign-in form of `/oauth2/authorize`).
    let web: WebKit
    /// Invitations, password resets and address verifications go out through it.
    let mailer: Mailer
    let logger: Logger
    /// Access tokens already verified (shared by every use of the authenticator).
    let verifiedTokens: VerifiedTokenCache
    /// Sessions ended while their access tokens are still valid (shared by every use of the authenticator).
    let revokedSessions: RevokedSessions

    package init(context: ModuleContext, passwordHashing: PasswordHashParameters, lifetimes: TokenLifetimes) {
        database = context.database
        clock = context.clock
        hasher = PasswordHasher(parameters: passwordHashing)
        secrets = context.secrets
        keys = SigningKeyRing(
            database: database, secrets: secrets, clock: clock, retention: lifetimes.signingKeyRetention)
        permissions = PermissionResolver(catalog: context.permissions, database: database, clock: clock)
        tenants = TenantStatusCache(database: database, clock: clock)
        tokens = TokenService(
            keys: keys, lifetimes: lifetimes, database: database, clock: clock, permissions: permissions,
            tenants: tenants)
        issuer = IssuerResolver(configured: context.configuration.publicURL)
        login = LoginService(database: database, hasher: hasher, tokens: tokens, clock: clock, secrets: secrets)
        moduleNames = context.moduleNames
        web = context.web
        mailer = context.mailer
        logger = context.logger
        verifiedTokens = VerifiedTokenCache()
        revokedSessions = RevokedSessions(retention: lifetimes.signingKeyRetention)
    }

    var authenticator: IdentityAuthenticator {
        IdentityAuthenticator(
            tokens: tokens, permissions: permissions, tenants: tenants, database: database, clock: clock,
            issuer: issuer, verified: verifiedTokens, revoked: revokedSessions, logger: logger)
    }
}
