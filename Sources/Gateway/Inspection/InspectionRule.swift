import Foundation

/// One request-inspection rule: where to look, how to normalise what it finds, what to match and what to do.
///
/// In JSON (a route table's custom rules):
/// `{"id": "no-evil", "description": "...", "targets": ["query", "body", "header:user-agent"],
///   "operator": "regex", "pattern": "ev[i1]l", "prefilter": ["ev"], "transforms": ["urlDecode", "lowercase"],
///   "action": "block", "methods": ["POST"]}`. `transforms`, `prefilter` and `methods` may be omitted;
/// `action` defaults to `block`.
package struct InspectionRule: Sendable, Hashable, Codable {
    /// Stable identifier, reported in verdicts and logs.
    package let id: String
    /// What the rule catches, for people reading logs and route tables.
    package let description: String
    /// The parts of the request the rule looks at.
    package let targets: [InspectionTarget]
    /// How a normalised value is matched.
    package let matcher: InspectionMatcher
    /// Normalisations applied, in order, before matching.
    package let transforms: [InspectionTransform]
    /// Cheap necessary condition: the (transformed) value must contain one of these literals (compared
    /// ASCII-case-insensitively) before the matcher runs. Empty means always run the matcher. A regex rule's
    /// prefilter must be implied by its pattern, or the rule silently misses.
    package let prefilter: [String]
    /// Block the request or only report the match.
    package let action: InspectionAction
    /// HTTP methods the rule applies to (upper case); empty means every method.
    package let methods: [String]

    package init(
        id: String,
        description: String,
        targets: [InspectionTarget],
        matcher: InspectionMatcher,
        transforms: [InspectionTransform] = [],
        prefilter: [String] = [],
        action: InspectionAction = .block,
        methods: [String] = []
    ) throws(InspectionRuleError) {
        guard !id.isEmpty else { throw .missingID }
        guard !targets.isEmpty else { throw .noTargets(ruleID: id) }
        guard !matcher.pattern.isEmpty else { throw .emptyPattern(ruleID: id) }
        guard !prefilter.contains(where: \.isEmpty) else { throw .emptyPrefilter(ruleID: id) }
        self.id = id
        self.description = description
        self.targets = targets
        self.matcher = matcher
        self.transforms = transforms
        self.prefilter = prefilter
        self.action = action
        self.methods = methods.map { $0.uppercased() }
    }

    private enum CodingKeys: String, CodingKey {
        case id, description, targets, pattern, transforms, prefilter, action, methods
        case matcherKind = "operator"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let id = try container.decode(String.self, forKey: .id)
        let pattern = try container.decode(String.self, forKey: .pattern)
        let matcher: InspectionMatcher =
            switch try container.decode(InspectionMatcher.Kind.self, forKey: .matcherKind) {
            case .literal: .literal(pattern)
            case .prefix: .prefix(pattern)
            case .regex: .regex(pattern)
            }
        try self.init(
            id: id,
            description: try container.decodeIfPresent(String.self, forKey: .description) ?? "",
            targets: try container.decode([InspectionTarget].self, forKey: .targets),
            matcher: matcher,
            transforms: try container.decodeIfPresent([InspectionTransform].self, forKey: .transforms) ?? [],
            prefilter: try container.decodeIfPresent([String].self, forKey: .prefilter) ?? [],
            action: try container.decodeIfPresent(InspectionAction.self, forKey: .action) ?? .block,
            methods: try container.decodeIfPresent([String].self, forKey: .methods) ?? []
        )
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(description, forKey: .description)
        try container.encode(targets, forKey: .targets)
        try container.encode(matcher.kind, forKey: .matcherKind)
        try container.encode(matcher.pattern, forKey: .pattern)
        try container.encode(transforms, forKey: .transforms)
        try container.encode(prefilter, forKey: .prefilter)
        try container.encode(action, forKey: .action)
        try container.encode(methods, forKey: .methods)
    }
}

/// How a rule compares a normalised value with its pattern.
package enum InspectionMatcher: Sendable, Hashable {
    /// The value contains the pattern, ASCII-case-insensitively.
    case literal(String)
    /// The value starts with the pattern, ASCII-case-insensitively.
    case prefix(String)
    /// The value contains a match of the regular expression, exactly as written (add the `lowercase`
    /// transform and write the pattern in lower case, or use `(?i)`, for case-insensitivity).
    case regex(String)

    /// The operator name used in JSON.
    package enum Kind: String, Sendable, Codable {
        case literal, prefix, regex
    }

    package var kind: Kind {
        switch self {
        case .literal: .literal
        case .prefix: .prefix
        case .regex: .regex
        }
    }

    package var pattern: String {
        switch self {
        case .literal(let pattern), .prefix(let pattern), .regex(let pattern): pattern
        }
    }
}

/// What happens when a rule matches.
package enum InspectionAction: String, Sendable, Hashable, Codable {
    /// The request is refused.
    case block
    /// The match is reported but the request goes on (for trying a rule out before enforcing it).
    case log
}

/// Why a rule or rule set is unusable; the message names the rule so a route-table author can fix it.
package enum InspectionRuleError: Error, Hashable, CustomStringConvertible {
    case missingID
    case noTargets(ruleID: String)
    case emptyPattern(ruleID: String)
    case emptyPrefilter(ruleID: String)
    case invalidTarget(String)
    case invalidRegex(ruleID: String, message: String)
    case duplicateID(String)

    package var description: String {
        switch self {
        case .missingID: "An inspection rule needs a non-empty id."
        case .noTargets(let id): "Inspection rule '\(id)' needs at least one target."
        case .emptyPattern(let id): "Inspection rule '\(id)' needs a non-empty pattern."
        case .emptyPrefilter(let id): "Inspection rule '\(id)' has an empty prefilter literal."
        case .invalidTarget(let target):
            "Unknown inspection target '\(target)': use path, query, headers, header:<name> or body."
        case .invalidRegex(let id, let message): "Inspection rule '\(id)' has an invalid regex: \(message)"
        case .duplicateID(let id): "Two inspection rules share the id '\(id)'."
        }
    }
}
