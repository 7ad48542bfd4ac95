/// Caps retries at a share of requests, so that retries cannot multiply the load on an upstream that is already
/// failing (Envoy's retry budget, as a token bucket): each request adds `percent` hundredths of a token up to a
/// cap, each retry spends one; a few tokens are always there so low traffic can still retry. Counted in
/// hundredths so that ten requests at 20 % make exactly two retries.
package struct RetryBudget: Sendable {
    private var hundredths: Int
    private let perRequest: Int
    private let cap: Int

    package init(percent: Int, minimum: Int = 3, cap: Int = 100) {
        self.perRequest = percent
        self.hundredths = minimum * 100
        self.cap = max(cap, minimum) * 100
    }

    package mutating func recordRequest() {
        hundredths = min(cap, hundredths + perRequest)
    }

    /// Spends a token for a retry when one is left.
    package mutating func tryRetry() -> Bool {
        guard hundredths >= 100 else { return false }
        hundredths -= 100
        return true
    }
}
