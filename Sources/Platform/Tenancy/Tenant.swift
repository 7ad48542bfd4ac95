import Foundation
import Kernel

/// A customer company: the unit of data isolation.
package struct Tenant: Sendable, Equatable, Codable {
    /// Suspended tenants keep their data but their sign-ins and tokens stop working.
    package enum Status: String, Sendable, Codable, CaseIterable {
        case active
        case suspended
    }

    package let id: TenantID
    package let slug: String
    package let name: String
    package let status: Status
    package let plan: String
    package let createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, slug, name, status, plan
        case createdAt = "created_at"
    }

    package init(id: TenantID, slug: String, name: String, status: Status, plan: String, createdAt: Date) {
        self.id = id
        self.slug = slug
        self.name = name
        self.status = status
        self.plan = plan
        self.createdAt = createdAt
    }
}

/// The rules for a new tenant's slug and name, kept out of the store so they are testable without SQL.
package enum TenantRules {
    /// Slugs that would collide with paths or well-known host names.
    static let reservedSlugs: Set<String> = [
        "api", "app", "admin", "www", "mail", "static", "assets", "auth", "oauth2", "login", "signup", "health",
        "ready", "metrics", "inopsio", "system", "root", "public",
    ]
    package static let plans: Set<String> = ["standard", "enterprise"]

    /// Validates and returns issues per field (empty when valid).
    package static func validate(slug: String, name: String, plan: String) -> [FieldIssue] {
        var issues: [FieldIssue] = []
        let slugCharacters = slug.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
        }
        if !(3...63).contains(slug.count) || !slugCharacters || slug.first?.isLetter != true || slug.hasSuffix("-")
            || slug.contains("--")
        {
            issues.append(
                FieldIssue(
                    field: "slug", code: "invalid_format",
                    message:
                        "3 to 63 characters: lower-case letters, digits and single hyphens, starting with a letter"))
        } else if reservedSlugs.contains(slug) {
            issues.append(FieldIssue(field: "slug", code: "reserved", message: "\(slug) is reserved"))
        }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed.count > 200 || trimmed != name {
            issues.append(
                FieldIssue(
                    field: "name", code: "invalid_length",
                    message: "1 to 200 characters without leading or trailing spaces"))
        }
        if !plans.contains(plan) {
            issues.append(
                FieldIssue(
                    field: "plan", code: "invalid_value", message: "one of \(plans.sorted().joined(separator: ", "))"))
        }
        return issues
    }
}
