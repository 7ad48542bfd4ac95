import Foundation

/// The `limit` of a list request: default 50, at most 200.
package struct PageLimit: Hashable, Sendable {
    package static let `default` = 50
    package static let maximum = 200
    package let value: Int

    /// `nil` text gives the default; anything outside 1...200 or not a number is `nil`.
    package init?(_ text: String?) {
        guard let text else {
            self.value = PageLimit.default
            return
        }
        guard let number = Int(text), (1...PageLimit.maximum).contains(number) else { return nil }
        self.value = number
    }
}
