import Foundation

/// Where "now" comes from, so time-dependent rules can be tested with a fixed clock.
package protocol WallClock: Sendable {
    func now() -> Date
}

/// The system's real-time clock.
package struct SystemWallClock: WallClock {
    package init() {}
    package func now() -> Date { Date() }
}
