import Foundation

extension Date {
    /// Milliseconds since the Unix epoch: how timestamps are stored, exact on SQLite and PostgreSQL alike.
    package var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    package init(epochMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(epochMilliseconds) / 1000)
    }
}
