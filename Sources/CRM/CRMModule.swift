import Foundation
import Kernel
import Platform

/// CRM: leads, companies, contacts, deals in pipelines, activities with reminders and timelines, typed custom
/// fields.
package struct CRMModule: Module {
    package let name = "crm"

    package init() {}

    package var permissions: [Permission] { Permission.crmAll }
    package var migrations: [Migration] { CRMMigrations.all }

    package func jobHandlers(context: ModuleContext) -> [any JobHandler] {
        [ActivityReminder(database: context.database, clock: context.clock)]
    }

    package func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        CRMAPI(services: CRMServices(context: context)).register(on: routes)
    }
}

/// What the CRM's routes share.
package struct CRMServices: Sendable {
    let database: any Database
    let clock: any WallClock

    package init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    init(context: ModuleContext) {
        self.init(database: context.database, clock: context.clock)
    }
}
