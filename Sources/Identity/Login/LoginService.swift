import Foundation
import Kernel
import Platform

/// Why a sign-in was refused, as the client may learn it. A wrong password, an unknown email or tenant, a locked
/// or deactivated account all answer `invalidCredentials` alike, so responses do not tell which accounts exist.
package enum LoginError: Error, Equatable, Sendable {
    case invalidCredentials
    /// Too many failures from this client address; try again after the date.
    case throttled(until: Date)
    /// The password was right; a TOTP or backup code is needed (or the one given was wrong).
    case mfaRequired
}

/// Password sign-in with per-account and per-IP brute-force protection and no user enumeration: whatever the
/// reason for refusing, one password hash is computed, so an unknown email takes as long as a wrong password.
package struct LoginService: Sendable {
    let database: any Database
    let hasher: PasswordHasher
    let tokens: TokenService
    let clock: any WallClock
    /// Opens the stored TOTP secrets.
    let secrets: SecretBox

    /// How the sign-in names its tenant: by slug (the API) or by id (an OAuth client's tenant).
    package enum TenantReference: Sendable {
        case slug(String)
        case id(TenantID)
    }

    package struct Attempt: Sendable {
        package var tenant: TenantReference
        package var email: String
        package var password: String
        package var totpCode: String?
        package var clientID: String = TokenService.firstPartyClient
        package var scope: String = TokenService.defaultScope
    }

    /// The signed-in user's tokens, or a thrown `LoginError`.
    package func login(_ attempt: Attempt, origin: RequestOrigin, issuer: String) async throws -> TokenResponse {
        let tokens = tokens
        let key = try await tokens.signingKey()
        return try await authenticate(attempt, origin: origin) { user, scope, tx in
            try await tokens.startSession(
                user: user, clientID: attempt.clientID, scope: scope, origin: origin, issuer: issuer, key: key, in: tx)
        }
    }

    /// Checks the attempt with every protection, then, in the transaction that records the success, runs `finish`
    /// with the user and the scope they may have (narrowed when they must still enroll a second factor).
    func authenticate<T: Sendable>(
        _ attempt: Attempt, origin: RequestOrigin,
        then finish: @escaping @Sendable (User, String, Transaction) async throws -> T
    ) async throws -> T {
        let now = clock.now()
        let throttle = ThrottleStore(database: database)
        let ipSubject = "ip:" + (origin.ip ?? "unknown")
        if let until = try await throttle.blockedUntil(ipSubject, now: now) { throw LoginError.throttled(until: until) }
        let tenants = TenantStore(database: database)
        let found: Tenant? =
            switch attempt.tenant {
            case .slug(let slug): try await tenants.find(slug: slug.lowercased())
            case .id(let id): try await tenants.find(id: id)
            }
        guard let email = EmailAddress.normalise(attempt.email), let tenant = found, tenant.status == .active
        else {
            await hasher.verifyDecoy(attempt.password)
            try await throttle.recordFailure(ipSubject, policy: .clientIP, now: now)
            throw LoginError.invalidCredentials
        }
        let (account, settings) = try await database.read(tenant: tenant.id) { tx in
            (
                try await UserStore().findWithCredentials(email: email, in: tx),
                try await TenantSettingsStore().load(in: tx)
            )
        }
        guard let (user, credentials) = account, let passwordHash = credentials.passwordHash else {
            await hasher.verifyDecoy(attempt.password)
            try await throttle.recordFailure(ipSubject, policy: .clientIP, now: now)
            try await audit(
                tenant: tenant.id, .failure, actor: .anonymous, email: email, reason: "unknown_user", origin)
            throw LoginError.invalidCredentials
        }
        if let lockedUntil = credentials.lockedUntil, lockedUntil > now {
            await hasher.verifyDecoy(attempt.password)
            try await throttle.recordFailure(ipSubject, policy: .clientIP, now: now)
            try await audit(tenant: tenant.id, .failure, actor: actor(user), email: email, reason: "locked", origin)
            throw LoginError.invalidCredentials
        }
        let verification = (try? await hasher.verify(attempt.password, against: passwordHash)) ?? .mismatch
        guard case .match(let needsRehash) = verification else {
            try await recordPasswordFailure(user: user, credentials: credentials, tenant: tenant.id, now: now, origin)
            try await throttle.recordFailure(ipSubject, policy: .clientIP, now: now)
            throw LoginError.invalidCredentials
        }
        guard user.status == .active else {
            try await audit(tenant: tenant.id, .failure, actor: actor(user), email: email, reason: "not_active", origin)
            throw LoginError.invalidCredentials
        }
        var secondFactor: SecondFactor?
        if user.mfaEnabled {
            let totpSecret = try credentials.totpSecret.map {
                try secrets.open($0, in: IdentitySecrets.totp, tenant: tenant.id)
            }
            guard let code = attempt.totpCode,
                let factor = Self.secondFactor(code, secret: totpSecret, lastStep: credentials.totpLastStep, now: now)
            else {
                if attempt.totpCode != nil {
                    try await recordPasswordFailure(
                        user: user, credentials: credentials, tenant: tenant.id, now: now, origin, reason: "wrong_totp")
                }
                throw LoginError.mfaRequired
            }
            secondFactor = factor
        }
        // A user whose role requires a second factor but who has none yet gets a token that can do nothing but
        // enroll (the scope grants no permission; the enrollment routes need only a signed-in user).
        let mustEnroll = !user.mfaEnabled && settings.requiresMFA(roles: user.roles)
        let scope = mustEnroll ? "openid \(Self.enrollmentScope)" : attempt.scope
        let secondFactorUsed = secondFactor
        let rehashed = needsRehash ? try await hasher.hash(attempt.password) : nil
        return try await database.write(tenant: tenant.id) { tx in
            let users = UserStore()
            // The step or backup code is claimed under the write lock, so the same code cannot sign in twice.
            switch secondFactorUsed {
            case .totp(let step):
                guard try await MFAStore().claimStep(step, of: user.id, in: tx) else { throw LoginError.mfaRequired }
            case .backupCode(let hash):
                guard try await MFAStore().useBackupCode(hash: hash, of: user.id, in: tx) else {
                    throw LoginError.mfaRequired
                }
            case nil:
                break
            }
            try await users.recordSuccess(of: user.id, now: now, in: tx)
            if let rehashed { try await users.setPasswordHash(rehashed, of: user.id, now: now, in: tx) }
            let result = try await finish(user, scope, tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "login.succeeded", actor: actor(user), targetType: "user", targetID: user.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    details: [
                        "mfa": .string(secondFactorUsed?.name ?? "none"), "client_id": .string(attempt.clientID),
                        "password_rehashed": .bool(rehashed != nil), "mfa_enrollment_required": .bool(mustEnroll),
                    ]),
                in: tx, at: now)
            return result
        }
    }

    /// The scope of a token that may only enroll a second factor.
    static let enrollmentScope = "identity.mfa:enroll"

    enum SecondFactor: Sendable {
        case totp(step: Int64)
        case backupCode(hash: String)

        var name: String {
            switch self {
            case .totp: "totp"
            case .backupCode: "backup_code"
            }
        }
    }

    /// A TOTP code valid now and not used before, or a backup code (checked against the store in the write).
    static func secondFactor(_ code: String, secret: String?, lastStep: Int64?, now: Date) -> SecondFactor? {
        if BackupCodes.looksLikeBackupCode(code) { return .backupCode(hash: BackupCodes.hash(code)) }
        guard let secret = secret.flatMap(Base32.decode),
            let step = TOTP(secret: secret).matchingStep(code, at: now, lastUsedStep: lastStep)
        else { return nil }
        return .totp(step: step)
    }

    private func recordPasswordFailure(
        user: User, credentials: UserCredentials, tenant: TenantID, now: Date, _ origin: RequestOrigin,
        reason: String = "wrong_password"
    ) async throws {
        let policy = LockoutPolicy.account
        let failures = policy.failures(
            after: credentials.failedLogins, lastFailureAt: credentials.lastFailedAt, now: now)
        let wait = policy.wait(afterFailures: failures)
        let lockedUntil = wait.map { now.addingTimeInterval($0) }
        try await database.write(tenant: tenant) { tx in
            try await UserStore().recordFailure(
                of: user.id, failures: failures, lockedUntil: lockedUntil, now: now, in: tx)
            let trail = AuditTrail()
            try await trail.record(
                AuditEntry(
                    action: "login.failed", actor: actor(user), outcome: .failure, targetType: "user",
                    targetID: user.id.description, ip: origin.ip, requestID: origin.requestID,
                    details: ["reason": .string(reason), "failures": .integer(Int64(failures))]),
                in: tx, at: now)
            if let wait {
                try await trail.record(
                    AuditEntry(
                        action: "account.locked", actor: .system, targetType: "user", targetID: user.id.description,
                        ip: origin.ip, requestID: origin.requestID,
                        details: [
                            "failures": .integer(Int64(failures)), "wait_seconds": .integer(Int64(wait)),
                            "locked_until": .string(RFC3339.string(from: now.addingTimeInterval(wait))),
                        ]),
                    in: tx, at: now)
            }
        }
    }

    private func audit(
        tenant: TenantID, _ outcome: AuditEntry.Outcome, actor: AuditEntry.Actor, email: String, reason: String,
        _ origin: RequestOrigin
    ) async throws {
        let now = clock.now()
        _ = try await database.write(tenant: tenant) { tx in
            try await AuditTrail().record(
                AuditEntry(
                    action: "login.failed", actor: actor, outcome: outcome, targetType: "user", ip: origin.ip,
                    requestID: origin.requestID, details: ["reason": .string(reason), "email": .string(email)]),
                in: tx, at: now)
        }
    }
}

/// The audit actor for a user.
func actor(_ user: User) -> AuditEntry.Actor {
    AuditEntry.Actor(kind: "user", id: user.id.description, name: user.email)
}
