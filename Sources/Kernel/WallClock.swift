import Foundation

/// Where "now" comes from, so time-dependent rules can be tested with a fixed clock.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
