import Foundation
import Synchronization

/// The millisecond and the counter of this process's last v7 UUID.
private let lastVersion7 = Mutex<(millis: UInt64, counter: UInt16)>((0, 0))

extension UUID {
    /// A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so IDs sort by creation time.
    /// Within one millisecond of one process they sort by creation too: the 12 bits after the version are a counter
    /// (RFC 9562, section 6.2, method 1) that starts at a random value below 2,048 in each new millisecond and
    /// counts up; should it run out, the id takes the next millisecond, and so do the ids asked for meanwhile (up to
    /// 10 s behind the last one made, which also covers a clock set back a little). (Job queues order equal times
    /// by id; with random bits there, two jobs made in one millisecond ran in either order.) An id for a time further
    /// back (`now` given, long past) gets its own time and a random counter, and leaves the state as it was.
    package static func v7(now: Date = Date()) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let requested = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let fresh = UInt16.random(in: 0..<2_048, using: &generator)
        let (millis, counter) = lastVersion7.withLock { last -> (UInt64, UInt16) in
            if requested > last.millis {
                last = (requested, fresh)
            } else if last.millis - requested <= 10_000 {
                if last.counter < 0x0FFF {
                    last.counter += 1
                } else {
                    last = (last.millis + 1, fresh)
                }
            } else {
                return (requested, fresh)
            }
            return (last.millis, last.counter)
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - UInt64(index))))
        }
        bytes[6] = 0x70 | UInt8(counter >> 8)  // version 7, then the counter's top 4 bits
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        for index in 8..<16 {
            bytes[index] = UInt8.random(in: 0...255, using: &generator)
        }
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// The lowercase canonical text form used everywhere in the API and the database.
    package var lowercasedString: String { uuidString.lowercased() }
}
