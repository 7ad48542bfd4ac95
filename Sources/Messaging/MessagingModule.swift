import Foundation
import Kernel
import Platform
import ServiceLifecycle
import Synchronization

/// Messaging: email templates, contacts and lists, campaigns with tracking and one-click unsubscribe, the
/// suppression list, and transactional mail other modules ask for by event or API.
package struct MessagingModule: Module {
    package let name = "messaging"
    /// Its scripts and texts, from the target's resource folder.
    package func webResources() throws -> WebResources {
        try .bundled(owner: name, folder: "Inopsio_Messaging.resources")
    }
    private let built = ServicesSlot()

    package init() {}

    package var permissions: [Permission] { Permission.messagingAll }
    package var migrations: [Migration] { MessagingMigrations.all }
    package var secretColumns: [SecretColumn] { MessagingSecrets.all }

    package func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        MessagingAPI(services: services(context)).register(on: routes)
    }

    package func registerPages(on routes: RouteRegistrar, context: ModuleContext) {
        TrackingRoutes(services: services(context), web: context.web).register(on: routes)
        MessagingPages(services: services(context), web: context.web).register(on: routes)
    }

    package func webSocketRoutes(context: ModuleContext) -> [WebSocketRoute] {
        [LiveRoutes(services: services(context), hub: services(context).hub).webSocketRoute]
    }

    package func backgroundServices(context: ModuleContext) -> [any Service] {
        // One process on SQLite: the fan-out hands events to the hub directly, nothing to listen for.
        guard context.database.dialect == .postgres else { return [] }
        return [LiveListener(database: context.database, hub: services(context).hub, logger: context.logger)]
    }

    package func consumers(context: ModuleContext) -> [any EventConsumer] {
        let services = services(context)
        return [
            EmailRequestConsumer(services: services), WebhookFanOut(services: services),
            LiveFanOut(hub: services.hub),
        ]
    }

    package func jobHandlers(context: ModuleContext) -> [any JobHandler] {
        let services = services(context)
        return [
            CampaignSender(services: services), TransactionalSender(services: services),
            WebhookSender(services: services, settings: services.webhooks),
        ]
    }

    /// The services for `context`, built on first use and shared by routes, jobs and the consumer.
    package func services(_ context: ModuleContext) -> MessagingServices {
        built.value.withLock { slot in
            if let existing = slot { return existing }
            let created = MessagingServices(context: context)
            slot = created
            return created
        }
    }
}

private final class ServicesSlot: Sendable {
    let value = Mutex<MessagingServices?>(nil)
}
