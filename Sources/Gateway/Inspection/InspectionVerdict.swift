/// Where in the request a rule matched.
package enum InspectionLocation: Sendable, Hashable {
    case path
    /// A query parameter name or value; the associated value is the parameter name.
    case query(String)
    /// A header value; the associated value is the lower-case header name.
    case header(String)
    /// A string value or key somewhere in the JSON body.
    case body
}

/// One rule that matched.
package struct InspectionMatch: Sendable, Hashable {
    package var ruleID: String
    package var action: InspectionAction
    package var location: InspectionLocation

    package init(ruleID: String, action: InspectionAction, location: InspectionLocation) {
        self.ruleID = ruleID
        self.action = action
        self.location = location
    }
}

/// The engine's answer for one request. Matching values are not carried, so logging a verdict cannot leak
/// secrets from the request.
package struct InspectionVerdict: Sendable, Hashable {
    /// Matched rules in the order found; inspection stops at the first blocking match.
    package var matches: [InspectionMatch]

    /// Whether the gateway must refuse the request.
    package var blocks: Bool { matches.contains { $0.action == .block } }

    /// The ids of the matched rules.
    package var ruleIDs: [String] { matches.map(\.ruleID) }
}
