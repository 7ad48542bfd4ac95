import Foundation

/// The `limit` of a list request: default 50, at most 200.
public struct PageLimit: Hashable, Sendable {
    public static let `default` = 50
    public static let maximum = 200
    public let value: Int

    /// `nil` text gives the default; anything outside 1...200 or not a number is `nil`.
    public init?(_ text: String?) {
        guard let text else {
            self.value = PageLimit.default
            return
        }
        guard let number = Int(text), (1...PageLimit.maximum).contains(number) else { return nil }
        self.value = number
    }
}
