import Foundation
import Kernel

/// A sales process: ordered stages a deal moves through. Every pipeline has open stages, exactly one `won` and
/// exactly one `lost` stage; a deal in one of those is closed.
package struct Pipeline: Sendable, Equatable, Encodable {
    package struct Stage: Sendable, Equatable, Encodable {
        package enum Kind: String, Sendable, Codable, CaseIterable {
            case open, won, lost
        }

        package let id: ID<Stage>
        package var name: String
        /// 0 to 100: the default chance that a deal in this stage is won (weighted forecasts).
        package var probability: Int
        package let kind: Kind
        /// 0, 1, 2, ... in the board's order.
        package var position: Int
    }

    package let id: ID<Pipeline>
    package var name: String
    package var isDefault: Bool
    package var stages: [Stage]
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, stages, version
        case isDefault = "is_default"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(isDefault, forKey: .isDefault)
        try container.encode(stages.sorted { $0.position < $1.position }, forKey: .stages)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
    }

    /// The stages every tenant's first pipeline starts with.
    package static let defaultStages: [(name: String, probability: Int, kind: Stage.Kind)] = [
        ("Lead", 10, .open), ("Qualified", 25, .open), ("Proposal", 50, .open), ("Negotiation", 75, .open),
        ("Won", 100, .won), ("Lost", 0, .lost),
    ]

    /// Stages in board order.
    package var ordered: [Stage] { stages.sorted { $0.position < $1.position } }

    /// Where a new deal starts: the first open stage.
    package var firstOpenStage: Stage? { ordered.first { $0.kind == .open } }

    package func stage(_ id: ID<Stage>) -> Stage? { stages.first { $0.id == id } }

    /// What is wrong with a pipeline's stages, if anything: between 3 and 20 stages, one won and one lost, at least
    /// one open, names unique (any case).
    package static func problems(of stages: [(name: String, probability: Int, kind: Stage.Kind)]) -> [String] {
        var problems: [String] = []
        if !(3...20).contains(stages.count) { problems.append("a pipeline has 3 to 20 stages") }
        if stages.filter({ $0.kind == .won }).count != 1 { problems.append("exactly one stage is won") }
        if stages.filter({ $0.kind == .lost }).count != 1 { problems.append("exactly one stage is lost") }
        if !stages.contains(where: { $0.kind == .open }) { problems.append("at least one stage is open") }
        if Set(stages.map { $0.name.lowercased() }).count != stages.count { problems.append("stage names differ") }
        return problems
    }
}
