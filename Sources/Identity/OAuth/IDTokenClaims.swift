import Foundation
import Kernel
import Platform

/// The claims of an OpenID Connect ID token (Core 1.0 §2), plus `tenant_id`.
struct IDTokenClaims: Codable, Sendable {
    let iss: String
    let sub: String
    let aud: String
    let exp: Int64
    let iat: Int64
    let authTime: Int64
    let nonce: String?
    let sid: String?
    let azp: String
    let tenantID: String
    let email: String?
    let emailVerified: Bool?
    let name: String?
    let locale: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nonce, sid, azp, email, name, locale
        case authTime = "auth_time"
        case tenantID = "tenant_id"
        case emailVerified = "email_verified"
    }

    /// The claims for `user` as `scope` allows (`email` and `profile` add their claims).
    init(
        user: User, tenant: TenantID, clientID: String, issuer: String, scope: Set<String>, nonce: String?,
        sessionID: ID<Session>?, authTime: Date, now: Date, lifetime: TimeInterval
    ) {
        iss = issuer
        sub = user.id.description
        aud = clientID
        azp = clientID
        iat = Int64(now.timeIntervalSince1970)
        exp = iat + Int64(lifetime)
        self.authTime = Int64(authTime.timeIntervalSince1970)
        self.nonce = nonce
        sid = sessionID?.description
        tenantID = tenant.description
        email = scope.contains("email") ? user.email : nil
        emailVerified = scope.contains("email") ? user.emailVerifiedAt != nil : nil
        name = scope.contains("profile") ? user.name : nil
        locale = scope.contains("profile") ? user.locale : nil
    }
}
