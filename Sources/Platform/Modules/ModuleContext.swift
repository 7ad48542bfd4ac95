import Foundation
import Kernel
import Logging

/// What the platform hands every module when it is assembled.
public struct ModuleContext: Sendable {
    public let database: any Database
    public let configuration: InopsioConfiguration
    public let logger: Logger
    public let web: WebKit
    public let clock: any WallClock

    public init(
        database: any Database, configuration: InopsioConfiguration, logger: Logger, web: WebKit,
        clock: any WallClock = SystemWallClock()
    ) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.web = web
        self.clock = clock
    }
}
