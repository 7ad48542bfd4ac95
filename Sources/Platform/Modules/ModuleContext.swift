import Foundation
import Kernel
import Logging

/// What the platform hands every module when it is assembled.
package struct ModuleContext: Sendable {
    package let database: any Database
    package let configuration: InopsioConfiguration
    package let logger: Logger
    package let web: WebKit
    package let clock: any WallClock
    /// Every permission the process's modules declare, for building roles.
    package let permissions: [Permission]
    /// The names of the modules this process runs.
    package let moduleNames: [String]
    /// Outgoing mail (SMTP, or `.eml` files in the data directory when no SMTP server is configured).
    package let mailer: Mailer

    package init(
        database: any Database, configuration: InopsioConfiguration, logger: Logger, web: WebKit,
        clock: any WallClock = SystemWallClock(), permissions: [Permission] = [], moduleNames: [String] = [],
        mailer: Mailer
    ) {
        self.mailer = mailer
        self.permissions = permissions
        self.moduleNames = moduleNames
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.web = web
        self.clock = clock
    }
}
