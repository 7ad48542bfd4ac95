import Foundation
import Hummingbird
import Kernel

/// The answers every module's pages share: a redirect after a form, and the signed-in page guard.
package enum PageResponses {
    /// `303 See Other` to `location` with `query` appended (pairs without a value are left out), never cached.
    package static func redirect(_ location: String, query: [(String, String?)] = []) -> Response {
        let encoded = FormBody.encode(query.compactMap { name, value in value.map { (name, $0) } })
        let target = encoded.isEmpty ? location : location + (location.contains("?") ? "&" : "?") + encoded
        return Response(status: .seeOther, headers: [.location: target, .cacheControl: "no-store"])
    }

    /// Runs `body` for a signed-in user (a user's session, not an API key); anyone else is sent through
    /// Identity's session refresh (`/auth/refresh`, which signs in when there is no session) and back here.
    package static func signedIn(
        _ request: Request, _ context: AppRequestContext, _ body: (Caller) async throws -> Response
    ) async throws -> Response {
        guard let principal = context.principal, principal.kind == .user, let tenant = context.tenant else {
            return refreshSession(request)
        }
        return try await body(Caller(tenant: tenant, principal: principal, origin: context.origin(request)))
    }

    /// The redirect through the session refresh and back to this request's page.
    package static func refreshSession(_ request: Request) -> Response {
        let path = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        return redirect("/auth/refresh", query: [("return_to", path)])
    }
}
