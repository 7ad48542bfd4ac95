import Foundation
import Kernel
import Testing

@testable import Identity

@Suite struct IdentityProviderTests {
    let provider = IdentityProvider(
        id: .generate(), kind: .oidc, name: "Keycloak", issuer: "https://kc.example/realms/acme", clientID: "inopsio",
        clientSecret: "s", scopes: ["openid"],
        roleRules: [
            .init(claim: "groups", value: "ops-admins", role: "tenant-admin"),
            .init(claim: "groups", value: "auditors", role: "auditor"),
            .init(claim: "department", value: "security", role: "security-analyst"),
        ], defaultRoles: ["user"], createUsers: true, syncRoles: true, enabled: true, createdAt: Date())

    @Test func listClaimsAndStringClaimsGrantRoles() {
        #expect(provider.roles(for: ["groups": ["ops-admins", "staff"]]) == ["tenant-admin"])
        #expect(
            provider.roles(for: ["groups": ["auditors"], "department": "security"]) == ["auditor", "security-analyst"])
    }

    @Test func noMatchingRuleGivesTheDefaultRoles() {
        #expect(provider.roles(for: ["groups": ["staff"]]) == ["user"])
        #expect(provider.roles(for: [:]) == ["user"])
        #expect(provider.roles(for: ["groups": "ops-admins-2"]) == ["user"])
    }

    @Test func theSecretIsNeverEncoded() throws {
        let text = String(decoding: try JSONEncoder().encode(provider), as: UTF8.self)
        #expect(!text.contains("\"s\""))
        #expect(text.contains("\"has_client_secret\":true"))
    }
}
