import Foundation
import Kernel
import Platform

/// CRM: leads with typed custom fields (this first slice); contacts, companies, deals and pipelines follow.
package struct CRMModule: Module {
    package let name = "crm"

    package init() {}

    package var permissions: [Permission] { Permission.crmAll }
    package var migrations: [Migration] { CRMMigrations.all }

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
