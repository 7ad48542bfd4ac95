import Foundation
import Hummingbird
import Kernel
import NIOCore
import Platform

/// The public links in sent messages: the open pixel, click redirects and unsubscribe (a confirmation page on
/// GET, the unsubscribe itself on POST, which is also RFC 8058's one-click `List-Unsubscribe-Post`). Each link is
/// signed ("LinkSigner"); a link that fails verification is answered 404 and records nothing.
struct TrackingRoutes: Sendable {
    let services: MessagingServices
    let web: WebKit

    /// A transparent 1×1 GIF.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF,
        0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
        0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func register(on routes: RouteRegistrar) {
        routes.get("/messaging/t/o/{token}") { _, context in try await open(context) }
        routes.get("/messaging/t/c/{token}") { _, context in try await click(context) }
        routes.get("/messaging/u/{token}") { request, context in try await unsubscribePage(request, context) }
        routes.post("/messaging/u/{token}") { request, context in try await unsubscribe(request, context) }
    }

    func verify(_ context: AppRequestContext, _ kind: LinkSigner.Kind) async throws -> LinkSigner.Link {
        guard let token = context.parameters.get("token"),
            let link = try await services.signer().verify(token, expecting: kind)
        else { throw DomainError.notFound(entity: "link") }
        return link
    }

    func open(_ context: AppRequestContext) async throws -> Response {
        let link = try await verify(context, .open)
        let now = services.clock.now()
        _ = try await services.database.write(tenant: link.tenant) { tx in
            try await MessageStore().recordOpen(id: link.message, now: now, in: tx)
        }
        return Response(
            status: .ok, headers: [.contentType: "image/gif", .cacheControl: "no-store, private"],
            body: .init(byteBuffer: ByteBuffer(bytes: Self.pixel)))
    }

    func click(_ context: AppRequestContext) async throws -> Response {
        let link = try await verify(context, .click)
        guard let url = link.url else { throw DomainError.notFound(entity: "link") }
        let now = services.clock.now()
        _ = try await services.database.write(tenant: link.tenant) { tx in
            try await MessageStore().recordClick(id: link.message, now: now, in: tx)
        }
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-store, private"])
    }

    /// A page with one button: link scanners that follow GET links must not unsubscribe anyone.
    func unsubscribePage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let link = try await verify(context, .unsubscribe)
        let message = try await services.database.read(tenant: link.tenant) { tx in
            try await MessageStore().find(id: link.message, in: tx)
        }
        guard let message else { throw DomainError.notFound(entity: "link") }
        let action = request.uri.path
        return web.page(request: request, context: context, title: { $0("messaging.unsubscribe.title") }) { chrome in
            let t = chrome.t
            let done = message.unsubscribedAt != nil
            let body: HTML =
                done
                ? "<p>\(t("messaging.unsubscribe.already"))</p>"
                : """
                <p>\(t("messaging.unsubscribe.question")) <strong>\(message.email)</strong></p>
                <form method="post" action="\(action)">
                <input type="hidden" name="List-Unsubscribe" value="One-Click">
                <button class="button button-primary" type="submit">\(t("messaging.unsubscribe.confirm"))</button>
                </form>
                """
            return """
                <section class="card narrow"><h1>\(t("messaging.unsubscribe.title"))</h1>
                \(body)
                </section>
                """
        }
    }

    /// Unsubscribes the message's address from the tenant's campaigns: a suppression entry, and the message
    /// marked. Repeating it changes nothing.
    func unsubscribe(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let link = try await verify(context, .unsubscribe)
        let now = services.clock.now()
        let found = try await services.database.write(tenant: link.tenant) { tx -> Bool in
            guard let message = try await MessageStore().find(id: link.message, in: tx) else { return false }
            try await MessageStore().recordUnsubscribe(id: message.id, now: now, in: tx)
            let campaign = message.campaignID.map { "campaign \($0)" } ?? "message \(message.id)"
            let new = try await SuppressionStore().add(
                email: message.email, reason: .unsubscribed, detail: "unsubscribe link of \(campaign)", now: now, in: tx
            )
            if new {
                try await MessagingEvents.append(
                    MessagingEvents.contactUnsubscribed,
                    [
                        "email": .string(message.email), "message_id": .string(message.id.description),
                        "campaign_id": message.campaignID.map { .string($0.description) } ?? .null,
                    ], aggregate: ("email_message", message.id.description), in: tx)
            }
            return true
        }
        guard found else { throw DomainError.notFound(entity: "link") }
        return web.page(request: request, context: context, title: { $0("messaging.unsubscribe.title") }) { chrome in
            """
            <section class="card narrow"><h1>\(chrome.t("messaging.unsubscribe.title"))</h1>
            <p role="status">\(chrome.t("messaging.unsubscribe.done"))</p>
            </section>
            """
        }
    }
}
