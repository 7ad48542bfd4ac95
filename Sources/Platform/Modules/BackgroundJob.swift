import Foundation
import Kernel
import Logging

/// A unit of background work a module declares (scheduled or enqueued by name).
package protocol BackgroundJob: Sendable {
    var name: String { get }
    func run(context: ModuleContext) async throws
}
