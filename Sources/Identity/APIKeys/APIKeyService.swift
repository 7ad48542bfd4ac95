import Foundation
import Kernel
import Platform

/// API keys' use cases, for the API and the admin pages: create (the secret is shown once), list, find, revoke.
/// Each change is audited with the caller.
struct APIKeyService: Sendable {
    let services: IdentityServices

    /// A new key's name, permissions (at most the caller's own) and optional expiry (the JSON body of `POST`).
    struct Input: JSONRequestBody {
        let name: String
        let permissions: [String]
        let expiresAt: String?
        static let fieldNames: Set<String> = ["name", "permissions", "expires_at"]
        enum CodingKeys: String, CodingKey {
            case name, permissions
            case expiresAt = "expires_at"
        }
    }

    /// A key with its secret, shown once.
    struct Created: Encodable {
        let key: APIKey
        let secret: String

        func encode(to encoder: any Encoder) throws {
            try key.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(secret, forKey: .secret)
        }
        enum CodingKeys: String, CodingKey { case secret }
    }

    func create(_ input: Input, by caller: Caller) async throws -> Created {
        try caller.require(.apiKeysWrite)
        let now = services.clock.now()
        var validation = Validation()
        let name = input.name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 100 {
            validation.add(FieldIssue(field: "name", code: "invalid_length", message: "1 to 100 characters"))
        }
        var permissions: [Permission] = []
        for text in input.permissions {
            if let permission = Permission(text), services.permissions.catalog.contains(permission) {
                permissions.append(permission)
            } else {
                validation.add(
                    FieldIssue(field: "permissions", code: "invalid_value", message: "no permission \(text)"))
            }
        }
        if input.permissions.isEmpty {
            validation.add(FieldIssue(field: "permissions", code: "required", message: "name at least one permission"))
        }
        var expiresAt: Date?
        if let text = input.expiresAt {
            if let date = RFC3339.date(from: text), date > now {
                expiresAt = date
            } else {
                validation.add(
                    FieldIssue(field: "expires_at", code: "invalid_value", message: "a future RFC 3339 time"))
            }
        }
        try validation.check()
        if !Set(permissions).isSubset(of: caller.principal.permissions) {
            throw DomainError.forbidden("an API key cannot have permissions you do not hold")
        }
        let granted = Array(Set(permissions))
        let expiry = expiresAt
        return try await services.database.audited(
            "api_key.created", target: "api_key", id: { $0.key.id.description },
            details: { created in
                [
                    "name": .string(name), "prefix": .string(created.key.prefix),
                    "permissions": .array(
                        created.key.permissions.map { .string($0.description) }.sorted { "\($0)" < "\($1)" }),
                ]
            }, at: now, by: caller
        ) { tx in
            let result = try await APIKeyStore().create(
                name: name, permissions: granted, expiresAt: expiry, createdBy: caller.principal.subject, now: now,
                in: tx)
            return Created(key: result.key, secret: result.secret)
        }
    }

    /// A page of keys, newest first (revoked ones when asked).
    func list(limit: Int, before: ID<APIKey>?, includeRevoked: Bool, by caller: Caller) async throws -> [APIKey] {
        try caller.require(.apiKeysRead)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await APIKeyStore().list(limit: limit, before: before, includeRevoked: includeRevoked, in: tx)
        }
    }

    func find(_ id: ID<APIKey>, by caller: Caller) async throws -> APIKey {
        try caller.require(.apiKeysRead)
        guard
            let key = try await services.database.read(
                tenant: caller.tenant, { tx in try await APIKeyStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "API key") }
        return key
    }

    func revoke(_ id: ID<APIKey>, by caller: Caller) async throws {
        try caller.require(.apiKeysWrite)
        let now = services.clock.now()
        try await services.database.audited(
            "api_key.revoked", target: "api_key", id: { _ in id.description }, at: now, by: caller
        ) { tx in
            guard try await APIKeyStore().revoke(id: id, now: now, in: tx) else {
                throw DomainError.notFound(entity: "API key")
            }
        }
    }
}
