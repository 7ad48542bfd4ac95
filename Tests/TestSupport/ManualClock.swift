import Foundation
import Kernel
import Synchronization

/// A wall clock the test moves by hand (lockout waits, token expiry, TOTP steps) instead of sleeping.
package final class ManualClock: WallClock {
    private let current: Mutex<Date>

    package init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    package func now() -> Date { current.withLock { $0 } }

    package func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
