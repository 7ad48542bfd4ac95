import Foundation
import Hummingbird
import Kernel
import Platform

/// Verifies credentials at the edge, before any module sees the request: Inopsio access tokens and API keys with
/// the process's verifier (Identity's, over the shared database), tokens of configured external issuers against
/// their JWKS.
package struct EdgeAuthenticator: Sendable {
    let inopsio: (any RequestAuthenticator)?
    let external: ExternalIssuerVerifier

    package init(inopsio: (any RequestAuthenticator)?, external: ExternalIssuerVerifier) {
        self.inopsio = inopsio
        self.external = external
    }

    func authenticate(_ request: Request, context: AppRequestContext, table: RouteTable) async throws -> Authentication?
    {
        if !table.externalIssuers.isEmpty, let token = request.bearerToken,
            let issuer = JSONWebToken.unverifiedIssuer(token),
            let definition = table.externalIssuers.first(where: { $0.issuer == issuer })
        {
            return try await external.authenticate(token: token, issuer: definition)
        }
        return try await inopsio?.authenticate(request, context: context)
    }

    /// `authenticate` from memory alone for the fast path; `nil` when that cannot be decided (an external
    /// issuer's token, one not verified before, a credential that is not valid).
    func cachedAuthentication(authorization: String, table: RouteTable) -> Authentication? {
        if !table.externalIssuers.isEmpty {
            guard let token = Request.bearerToken(authorization: authorization) else { return nil }
            if let issuer = JSONWebToken.unverifiedIssuer(token),
                table.externalIssuers.contains(where: { $0.issuer == issuer })
            {
                return nil
            }
        }
        return inopsio?.cachedAuthentication(authorization: authorization)
    }
}
