/// Where a lead stands. New leads start `new`; `LeadStatusMachine` says which moves are allowed.
package enum LeadStatus: String, Sendable, Codable, CaseIterable {
    case new
    case contacted
    case qualified
    case unqualified
}

/// The allowed moves of a lead's status: `new → contacted → qualified | unqualified`, plus dropping a lead that
/// never was worth contacting (`new → unqualified`) and giving an unqualified lead another chance
/// (`unqualified → contacted`). A qualified lead leaves the lead list only by conversion.
package enum LeadStatusMachine {
    package static func allowed(from current: LeadStatus) -> Set<LeadStatus> {
        switch current {
        case .new: [.contacted, .unqualified]
        case .contacted: [.qualified, .unqualified]
        case .unqualified: [.contacted]
        case .qualified: []
        }
    }

    /// Whether `current` may become `next` (staying the same is always allowed: a no-op).
    package static func canMove(from current: LeadStatus, to next: LeadStatus) -> Bool {
        current == next || allowed(from: current).contains(next)
    }
}
