import Foundation
import Kernel

/// A role as the API shows it: built-in (fixed, computed from the modules' permissions) or custom (per tenant).
package struct Role: Sendable, Equatable, Encodable {
    package let name: String
    package let description: String
    package let permissions: [Permission]
    package let builtIn: Bool

    enum CodingKeys: String, CodingKey {
        case name, description, permissions
        case builtIn = "built_in"
    }

    static func builtIn(_ role: BuiltInRole, among all: [Permission]) -> Role {
        Role(
            name: role.rawValue, description: role.summary,
            permissions: role.permissions(among: all).sorted { $0.description < $1.description }, builtIn: true)
    }

    /// Custom role names: lower-case words with hyphens, not a built-in name.
    static func nameIssue(_ name: String) -> FieldIssue? {
        let valid =
            (2...50).contains(name.count)
            && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            && name.first?.isLetter == true
        if !valid {
            return FieldIssue(
                field: "name", code: "invalid_format", message: "2 to 50 lower-case letters, digits or hyphens")
        }
        if BuiltInRole(rawValue: name) != nil {
            return FieldIssue(field: "name", code: "reserved", message: "\(name) is a built-in role")
        }
        return nil
    }
}

extension BuiltInRole {
    var summary: String {
        switch self {
        case .tenantAdmin: "Everything, including users, roles, keys and settings"
        case .manager: "Every business module in full, and reading users"
        case .user: "Reading and writing business records"
        case .auditor: "Reading everything, including the audit log; changing nothing"
        case .securityAnalyst: "The security module in full, reading users and the audit log"
        }
    }
}
