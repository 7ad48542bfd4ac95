import Foundation

extension Date {
    /// Milliseconds since the Unix epoch: how timestamps are stored, exact on SQLite and PostgreSQL alike.
    public var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(epochMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(epochMilliseconds) / 1000)
    }
}
