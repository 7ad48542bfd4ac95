import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/api/v1/identity/invitations`, `/password-reset` and `/verify-email` as JSON (`InvitationService` holds the
/// use cases); the list of pending invitations and the request for a new verification link.
struct InvitationRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        let base = IdentityAPI.base
        routes.get("\(base)/invitations") { request, context in try await list(request, context) }
        let service = InvitationService(services: services)
        routes.post("\(base)/invitations") { request, context in
            let body = try await JSONBody.decode(InvitationService.InviteBody.self, from: request, context: context)
            let user = try await service.invite(
                body, by: context.caller(request), issuer: services.issuer.issuer(for: request))
            return try JSONResponse.created(user, location: "\(base)/users/\(user.id)")
        }
        routes.post("\(base)/invitations/accept") { request, context in
            let body = try await JSONBody.decode(InvitationService.AcceptBody.self, from: request, context: context)
            return try JSONResponse.make(
                try await service.accept(
                    body, origin: context.origin(request), issuer: services.issuer.issuer(for: request)))
        }
        // Always 202, whether or not the account exists (no enumeration).
        routes.post("\(base)/password-reset") { request, context in
            let body = try await JSONBody.decode(InvitationService.ResetBody.self, from: request, context: context)
            try await service.requestReset(
                body, origin: context.origin(request), issuer: services.issuer.issuer(for: request))
            return try JSONResponse.make(
                ["detail": "if the account exists, a reset link is on its way"], status: .accepted)
        }
        routes.post("\(base)/password-reset/confirm") { request, context in
            let body = try await JSONBody.decode(InvitationService.ConfirmBody.self, from: request, context: context)
            try await service.confirmReset(body, origin: context.origin(request))
            return JSONResponse.noContent()
        }
        routes.post("\(base)/users/me/verify-email") { request, context in
            try await JSONBody.withoutBody(request, context) { try await sendVerification(request, context) }
        }
        routes.post("\(base)/verify-email") { request, context in
            let body = try await JSONBody.decode(InvitationService.TokenBody.self, from: request, context: context)
            try await service.verify(body, origin: context.origin(request))
            return JSONResponse.noContent()
        }
    }

    private func link(_ request: Request, path: String, token: String) -> String {
        "\(services.issuer.issuer(for: request))\(path)?token=\(token)"
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.usersRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorPosition().flatMap(ID<User>.init)
        let users = try await services.database.read(tenant: tenant) { tx in
            try await UserStore().list(limit: limit + 1, after: after, status: .invited, email: nil, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: users, limit: limit) { $0.id.description })
    }

    func sendVerification(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try context.requireUserID()
        let tenant = try context.requireTenant()
        let now = services.clock.now()
        let unverified = try await services.database.read(tenant: tenant) { tx in
            try await UserStore().find(id: id, in: tx).flatMap { $0.emailVerifiedAt == nil ? $0 : nil }
        }
        guard let unverified else { throw DomainError.conflict("your address is already verified") }
        try await MailQuota(database: services.database).take(
            .verification, address: unverified.email, user: id.description, now: now)
        let issued = try await services.database.write(tenant: tenant) { tx -> (User, String)? in
            guard let user = try await UserStore().find(id: id, in: tx), user.emailVerifiedAt == nil else { return nil }
            return (user, try await ActionTokenStore().issue(.emailVerification, for: id, now: now, in: tx))
        }
        guard let (user, token) = issued else { throw DomainError.conflict("your address is already verified") }
        let organisation = try await TenantStore(database: services.database).find(id: tenant)?.name ?? ""
        let (subject, text, html) = IdentityMail.verification(
            to: user, organisation: organisation, link: link(request, path: "/verify-email", token: token))
        try await services.mailer.send(
            to: MailAddress(user.email, name: user.name), subject: subject, text: text, html: html)
        return try JSONResponse.make(["detail": "a confirmation link is on its way"], status: .accepted)
    }
}
