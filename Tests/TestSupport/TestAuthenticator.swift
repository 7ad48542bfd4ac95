import Foundation
import Hummingbird
import Kernel
import Platform

/// Accepts `Bearer test:<subject>:<permission,...>` for tenant `tenant` (or `Bearer test2:...` for `otherTenant`),
/// standing in for Identity's verifier, which has its own tests.
package struct TestAuthenticator: RequestAuthenticator {
    package static let tenant = TenantID(UUID(uuidString: "00000000-0000-0000-0000-0000000000aa")!)
    package static let otherTenant = TenantID(UUID(uuidString: "00000000-0000-0000-0000-0000000000bb")!)

    package init() {}

    package func authenticate(_ request: Request, context: AppRequestContext) async throws -> Authentication? {
        guard let header = request.headers[.authorization] else { return nil }
        return try Self.parse(header)
    }

    /// Known from memory, as Identity's cached tokens are: the gateway's fast path takes these requests.
    package func cachedAuthentication(authorization: String) -> Authentication? {
        try? Self.parse(authorization)
    }

    package static func parse(_ header: String) throws -> Authentication {
        let parts = header.dropFirst("Bearer ".count).split(
            separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard header.hasPrefix("Bearer "), parts.count == 3, parts[0] == "test" || parts[0] == "test2" else {
            throw Problem.invalidToken()
        }
        let permissions = Set(parts[2].split(separator: ",").compactMap { Permission(String($0)) })
        return Authentication(
            tenant: parts[0] == "test" ? tenant : otherTenant,
            principal: Principal(subject: String(parts[1]), kind: .user, permissions: permissions))
    }
}
