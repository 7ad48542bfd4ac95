import Foundation
import Hummingbird
import Kernel
import Platform

/// The OpenAPI 3.1 description of everything Identity serves, at `/api/v1/identity/openapi.json`.
/// `OpenAPIDocumentTests` holds it to the registered routes: a route without an operation, or an operation without
/// a route, fails the build's tests.
enum IdentityOpenAPI {
    typealias S = OpenAPI.Schema
    typealias Op = OpenAPI.Operation
    typealias P = OpenAPI.Parameter

    static let base = IdentityAPI.base

    static func page(_ item: String) -> S {
        .object(
            ["data": .array(.reference(item)), "next_cursor": .nullable(.string())], required: ["data", "next_cursor"])
    }

    static let schemas: [String: S] = [
        "User": .object(
            [
                "id": .string(format: "uuid"), "email": .string(format: "email"), "name": .string(),
                "status": .enumeration(["active", "invited", "deactivated"]), "roles": .array(.string()),
                "email_verified": .boolean, "locale": .nullable(.string()), "time_zone": .nullable(.string()),
                "last_login_at": .nullable(.string(format: "date-time")), "mfa_enabled": .boolean, "version": .integer,
                "created_at": .string(format: "date-time"), "updated_at": .string(format: "date-time"),
            ], required: ["id", "email", "name", "status", "roles"]),
        "Tokens": .object(
            [
                "access_token": .string(), "refresh_token": .string(), "token_type": .enumeration(["Bearer"]),
                "expires_in": .integer, "scope": .string(), "id_token": .string(),
            ], required: ["access_token", "token_type", "expires_in"]),
        "Role": .object(
            ["name": .string(), "description": .string(), "permissions": .array(.string()), "built_in": .boolean],
            required: ["name", "permissions", "built_in"]),
        "APIKey": .object(
            [
                "id": .string(format: "uuid"), "name": .string(), "prefix": .string(), "permissions": .array(.string()),
                "created_by": .nullable(.string()), "created_at": .string(format: "date-time"),
                "expires_at": .nullable(.string(format: "date-time")),
                "last_used_at": .nullable(.string(format: "date-time")),
                "revoked_at": .nullable(.string(format: "date-time")),
                "secret": .string(description: "only on creation"),
            ], required: ["id", "name", "prefix", "permissions"]),
        "Session": .object(
            [
                "id": .string(format: "uuid"), "user_id": .string(format: "uuid"), "client_id": .nullable(.string()),
                "scope": .string(), "ip": .nullable(.string()), "user_agent": .nullable(.string()),
                "created_at": .string(format: "date-time"), "last_used_at": .string(format: "date-time"),
                "expires_at": .string(format: "date-time"), "revoked_at": .nullable(.string(format: "date-time")),
                "revoked_reason": .nullable(.string()),
            ], required: ["id", "user_id", "scope"]),
        "AuditRecord": .object(
            [
                "sequence": .integer, "id": .string(), "occurred_at": .string(format: "date-time"), "action": .string(),
                "actor": .map(.any), "outcome": .enumeration(["success", "failure"]),
                "target_type": .nullable(.string()), "target_id": .nullable(.string()), "ip": .nullable(.string()),
                "request_id": .nullable(.string()), "changes": .map(.any), "details": .map(.any), "hash": .string(),
            ], required: ["sequence", "action", "actor", "outcome", "hash"]),
        "Tenant": .object(
            [
                "id": .string(format: "uuid"), "slug": .string(), "name": .string(),
                "status": .enumeration(["active", "suspended"]), "plan": .string(),
                "created_at": .string(format: "date-time"), "locale": .enumeration(["en", "fr", "ar"]),
                "time_zone": .string(), "theme_colour": .string(), "enabled_modules": .array(.string()),
                "mfa_required_roles": .array(.string()), "audit_retention_days": .integer,
            ], required: ["id", "slug", "name", "status"]),
        "IdentityProvider": .object(
            [
                "id": .string(format: "uuid"), "kind": .enumeration(["oidc", "github"]), "name": .string(),
                "issuer": .string(format: "uri"), "client_id": .string(), "has_client_secret": .boolean,
                "scopes": .array(.string()),
                "role_rules": .array(.object(["claim": .string(), "value": .string(), "role": .string()])),
                "default_roles": .array(.string()), "create_users": .boolean, "sync_roles": .boolean,
                "enabled": .boolean, "created_at": .string(format: "date-time"),
            ], required: ["id", "name", "issuer", "client_id"]),
        "OAuthClient": .object(
            [
                "client_id": .string(), "name": .string(), "client_type": .enumeration(["public", "confidential"]),
                "redirect_uris": .array(.string(format: "uri")), "allowed_scopes": .array(.string()),
                "grant_types": .array(.string()), "created_by": .nullable(.string()),
                "created_at": .string(format: "date-time"), "revoked_at": .nullable(.string(format: "date-time")),
                "client_secret": .string(description: "only on creation, confidential clients"),
            ], required: ["client_id", "name", "client_type"]),
    ]

    static var operations: [Op] {
        let id = P.path("id", "the record's id")
        let userFields: [String: S] = [
            "name": .string(), "locale": .enumeration(["en", "fr", "ar"]), "time_zone": .string(),
        ]
        return [
            Op(.get, "\(base)/openapi.json", "This document", security: .none, schema: .any),
            Op(
                .post, "\(base)/signup", "Create a tenant and its first admin", security: .none,
                body: .object(
                    [
                        "tenant_slug": .string(), "tenant_name": .string(), "name": .string(),
                        "email": .string(format: "email"), "password": .string(format: "password"),
                    ], required: ["tenant_slug", "tenant_name", "name", "email", "password"]),
                success: 201, "Created",
                schema: .object([
                    "tenant": .reference("Tenant"), "user": .reference("User"), "tokens": .reference("Tokens"),
                ]), problems: [409: "The tenant slug is taken"]),
            Op(
                .post, "\(base)/login", "Sign in with a password (and a TOTP or backup code when enrolled)",
                security: .none,
                body: .object(
                    [
                        "tenant": .string(), "email": .string(format: "email"), "password": .string(format: "password"),
                        "totp_code": .string(),
                    ], required: ["tenant", "email", "password"]),
                schema: .reference("Tokens"),
                problems: [
                    401: "Wrong organisation, email or password (or a TOTP code is needed)",
                    403: "Two-factor sign-in is required and not set up", 429: "Too many failures; Retry-After",
                ]),
            Op(
                .post, "\(base)/refresh", "Rotate a refresh token", security: .none,
                body: .object(["refresh_token": .string()], required: ["refresh_token"]), schema: .reference("Tokens"),
                problems: [401: "The refresh token is invalid, expired or revoked"]),
            Op(.post, "\(base)/logout", "End the current session", security: .bearer(nil), success: 204, "Signed out"),
            Op(.get, "\(base)/users/me", "The signed-in user", security: .bearer(nil), schema: .reference("User")),
            Op(
                .patch, "\(base)/users/me", "Update your profile", security: .bearer(nil), body: .object(userFields),
                schema: .reference("User")),
            Op(
                .post, "\(base)/users/me/password", "Change your password (other sessions end)", security: .bearer(nil),
                body: .object(
                    ["current_password": .string(), "new_password": .string()],
                    required: ["current_password", "new_password"]), success: 204, "Changed"),
            Op(
                .post, "\(base)/users/me/verify-email", "Send a new address confirmation link", security: .bearer(nil),
                success: 202, "Sent", schema: .map(.string()),
                problems: [409: "The address is verified already", 429: "Too many mails; Retry-After"]),
            Op(
                .post, "\(base)/users/me/mfa/totp", "Start TOTP enrollment", security: .bearer(nil), success: 201,
                "Secret and otpauth link", schema: .object(["secret": .string(), "otpauth_uri": .string()])),
            Op(
                .post, "\(base)/users/me/mfa/totp/confirm", "Confirm TOTP with a first code; returns 10 backup codes",
                security: .bearer(nil), body: .object(["code": .string()], required: ["code"]),
                schema: .object(["backup_codes": .array(.string())])),
            Op(
                .delete, "\(base)/users/me/mfa/totp", "Turn TOTP off (password required)", security: .bearer(nil),
                body: .object(["password": .string()], required: ["password"]), success: 204, "Turned off"),
            Op(
                .get, "\(base)/users", "List users", security: .bearer(.usersRead),
                parameters: P.paging + [
                    .query("status", .enumeration(["active", "invited", "deactivated"]), "only this status"),
                    .query("email", .string(format: "email"), "only this address"),
                ], schema: page("User")),
            Op(
                .get, "\(base)/users/{id}", "A user", security: .bearer(.usersRead), parameters: [id],
                schema: .reference("User")),
            Op(
                .patch, "\(base)/users/{id}", "Update a user (merge patch; If-Match with the ETag)",
                security: .bearer(.usersWrite), parameters: [id],
                body: .object(
                    userFields.merging([
                        "roles": .array(.string()), "status": .enumeration(["active", "deactivated"]),
                    ]) { $1 }), schema: .reference("User"),
                problems: [409: "The last active tenant-admin would be lost", 412: "If-Match does not match"]),
            Op(
                .delete, "\(base)/users/{id}", "Deactivate a user (sessions end)", security: .bearer(.usersWrite),
                parameters: [id], success: 204, "Deactivated",
                problems: [409: "You cannot deactivate yourself, nor the last active tenant-admin"]),
            Op(
                .get, "\(base)/invitations", "Pending invitations", security: .bearer(.usersRead),
                parameters: P.paging, schema: page("User")),
            Op(
                .post, "\(base)/invitations", "Invite someone by email", security: .bearer(.usersWrite),
                body: .object(
                    ["email": .string(format: "email"), "name": .string(), "roles": .array(.string())],
                    required: ["email"]), success: 201, "Invited", schema: .reference("User"),
                problems: [409: "A user with this email exists", 429: "Too many mails; Retry-After"]),
            Op(
                .post, "\(base)/invitations/accept", "Accept an invitation and choose a password", security: .none,
                body: .object(
                    ["token": .string(), "password": .string(), "name": .string()], required: ["token", "password"]),
                schema: .reference("Tokens")),
            Op(
                .post, "\(base)/password-reset", "Mail a password reset link (202 whether or not the account exists)",
                security: .none,
                body: .object(
                    ["tenant": .string(), "email": .string(format: "email")], required: ["tenant", "email"]),
                success: 202, "Accepted", schema: .map(.string()),
                problems: [429: "Too many reset mails asked for this address; Retry-After"]),
            Op(
                .post, "\(base)/password-reset/confirm", "Set a new password from a reset link", security: .none,
                body: .object(["token": .string(), "password": .string()], required: ["token", "password"]),
                success: 204, "Changed"),
            Op(
                .post, "\(base)/verify-email", "Confirm an address from its link", security: .none,
                body: .object(["token": .string()], required: ["token"]), success: 204, "Verified"),
            Op(.get, "\(base)/roles", "Built-in and custom roles", security: .bearer(.rolesRead), schema: page("Role")),
            Op(
                .post, "\(base)/roles", "Create a custom role", security: .bearer(.rolesWrite),
                body: .object(
                    ["name": .string(), "description": .string(), "permissions": .array(.string())], required: ["name"]),
                success: 201, "Created", schema: .reference("Role"), problems: [409: "A role has this name"]),
            Op(
                .get, "\(base)/roles/{name}", "A role", security: .bearer(.rolesRead),
                parameters: [.path("name", "the role name")], schema: .reference("Role")),
            Op(
                .patch, "\(base)/roles/{name}", "Update a custom role", security: .bearer(.rolesWrite),
                parameters: [.path("name", "the role name")],
                body: .object(["description": .string(), "permissions": .array(.string())]), schema: .reference("Role"),
                problems: [409: "Built-in roles cannot be changed"]),
            Op(
                .delete, "\(base)/roles/{name}", "Delete a custom role", security: .bearer(.rolesWrite),
                parameters: [.path("name", "the role name")], success: 204, "Deleted",
                problems: [409: "Built-in roles, and roles still held, cannot be deleted"]),
            Op(
                .get, "\(base)/api-keys", "API keys", security: .bearer(.apiKeysRead),
                parameters: P.paging + [.query("include_revoked", .boolean, "also revoked keys")],
                schema: page("APIKey")),
            Op(
                .post, "\(base)/api-keys", "Create an API key (the secret is shown once)",
                security: .bearer(.apiKeysWrite),
                body: .object(
                    ["name": .string(), "permissions": .array(.string()), "expires_at": .string(format: "date-time")],
                    required: ["name", "permissions"]), success: 201, "Created", schema: .reference("APIKey")),
            Op(
                .get, "\(base)/api-keys/{id}", "An API key", security: .bearer(.apiKeysRead), parameters: [id],
                schema: .reference("APIKey")),
            Op(
                .delete, "\(base)/api-keys/{id}", "Revoke an API key", security: .bearer(.apiKeysWrite),
                parameters: [id],
                success: 204, "Revoked"),
            Op(
                .get, "\(base)/sessions", "Open sessions (your own without identity.sessions:read)",
                security: .bearer(nil),
                parameters: P.paging + [.query("user_id", .string(format: "uuid"), "only this user's")],
                schema: page("Session"), problems: [404: "No such user"]),
            Op(
                .delete, "\(base)/sessions/{id}", "Revoke a session", security: .bearer(nil), parameters: [id],
                success: 204, "Revoked"),
            Op(
                .get, "\(base)/audit", "Audit records, newest first", security: .bearer(.auditRead),
                parameters: P.paging + auditFilters, schema: page("AuditRecord")),
            Op(
                .get, "\(base)/audit/export.csv", "Audit records as CSV", security: .bearer(.auditRead),
                parameters: auditFilters, schema: .string(), contentType: "text/csv"),
            Op(
                .get, "\(base)/audit/verify", "Check the audit hash chain", security: .bearer(.auditRead),
                schema: .object([
                    "intact": .boolean, "checked": .integer, "first_sequence": .nullable(.integer),
                    "problems": .array(.string()),
                ])),
            Op(
                .get, "\(base)/tenant", "Your tenant and its settings", security: .bearer(.tenantRead),
                schema: .reference("Tenant")),
            Op(
                .patch, "\(base)/tenant", "Update tenant settings", security: .bearer(.tenantWrite),
                body: .object([
                    "name": .string(), "locale": .enumeration(["en", "fr", "ar"]), "time_zone": .string(),
                    "theme_colour": .string(), "enabled_modules": .array(.string()),
                    "mfa_required_roles": .array(.string()), "audit_retention_days": .integer,
                ]), schema: .reference("Tenant")),
            Op(
                .get, "\(base)/oauth-clients", "OAuth clients", security: .bearer(.oauthClientsRead),
                schema: page("OAuthClient")),
            Op(
                .post, "\(base)/oauth-clients",
                "Register an OAuth client (a confidential client's secret is shown once)",
                security: .bearer(.oauthClientsWrite),
                body: .object(
                    [
                        "name": .string(), "client_type": .enumeration(["public", "confidential"]),
                        "redirect_uris": .array(.string(format: "uri")), "allowed_scopes": .array(.string()),
                        "grant_types": .array(
                            .enumeration(["authorization_code", "refresh_token", "client_credentials"])),
                    ], required: ["name", "client_type"]), success: 201, "Registered", schema: .reference("OAuthClient")
            ),
            Op(
                .get, "\(base)/oauth-clients/{client_id}", "An OAuth client", security: .bearer(.oauthClientsRead),
                parameters: [.path("client_id", "the client id")], schema: .reference("OAuthClient")),
            Op(
                .delete, "\(base)/oauth-clients/{client_id}", "Revoke an OAuth client",
                security: .bearer(.oauthClientsWrite), parameters: [.path("client_id", "the client id")], success: 204,
                "Revoked"),
            Op(
                .get, "\(base)/providers", "External identity providers", security: .bearer(.providersRead),
                schema: page("IdentityProvider")),
            Op(
                .post, "\(base)/providers", "Add an external OpenID Connect provider (its discovery is checked)",
                security: .bearer(.providersWrite),
                body: .object(
                    [
                        "kind": .enumeration(["oidc", "github"]), "name": .string(), "issuer": .string(format: "uri"),
                        "client_id": .string(), "client_secret": .string(), "scopes": .array(.string()),
                        "role_rules": .array(.object(["claim": .string(), "value": .string(), "role": .string()])),
                        "default_roles": .array(.string()), "create_users": .boolean, "sync_roles": .boolean,
                    ], required: ["name", "issuer", "client_id"]), success: 201, "Added",
                schema: .reference("IdentityProvider")),
            Op(
                .get, "\(base)/providers/{id}", "An external identity provider", security: .bearer(.providersRead),
                parameters: [id], schema: .reference("IdentityProvider")),
            Op(
                .delete, "\(base)/providers/{id}", "Remove an external identity provider",
                security: .bearer(.providersWrite), parameters: [id], success: 204, "Removed"),
            Op(
                .get, "/oauth2/authorize/federated", "Continue the authorization at an external provider",
                security: .none,
                parameters: authorizeParameters + [.query("provider", .string(format: "uuid"), "the provider")],
                success: 303, "Redirect to the provider", errorFormat: .html),
            Op(
                .get, "/oauth2/callback", "Where external providers return; resumes the authorization",
                security: .none, parameters: [.query("code", .string(), "code"), .query("state", .string(), "state")],
                success: 303, "Redirect to the client", errorFormat: .html),
            Op(
                .get, "/.well-known/jwks.json", "Public signing keys", security: .none, schema: .any,
                contentType: "application/jwk-set+json"),
            Op(.get, "/.well-known/openid-configuration", "OpenID Provider metadata", security: .none, schema: .any),
            Op(
                .get, "/oauth2/authorize", "Authorization endpoint: the sign-in form (code flow, PKCE S256)",
                security: .none, parameters: authorizeParameters, schema: .string(), contentType: "text/html",
                errorFormat: .html),
            Op(
                .post, "/oauth2/authorize", "Submit the sign-in form; redirects to the client with a code",
                security: .none, body: .map(.string()), bodyType: "application/x-www-form-urlencoded", success: 303,
                "Redirect to the client", alsoSuccess: 200, errorFormat: .html),
            Op(
                .post, "/oauth2/token", "Token endpoint (authorization_code, refresh_token, client_credentials)",
                security: .client, body: .map(.string()), bodyType: "application/x-www-form-urlencoded",
                schema: .reference("Tokens"), errorFormat: .oauth),
            Op(
                .post, "/oauth2/revoke", "Revoke a refresh token (RFC 7009)", security: .client, body: .map(.string()),
                bodyType: "application/x-www-form-urlencoded", errorFormat: .oauth),
            Op(
                .post, "/oauth2/introspect", "Token introspection for confidential clients (RFC 7662)",
                security: .client, body: .map(.string()), bodyType: "application/x-www-form-urlencoded",
                schema: .map(.any), errorFormat: .oauth),
            Op(.get, "/oauth2/userinfo", "Claims of the signed-in user", security: .bearer(nil), schema: .map(.any)),
            Op(.post, "/oauth2/userinfo", "Claims of the signed-in user", security: .bearer(nil), schema: .map(.any)),
        ]
    }

    static let auditFilters: [P] = [
        .query("action", .string(), "actions starting with this text, e.g. login."),
        .query("actor_id", .string(), "one actor"), .query("target_type", .string(), "one kind of record"),
        .query("target_id", .string(), "one record"),
        .query("outcome", .enumeration(["success", "failure"]), "outcome"),
        .query("since", .string(format: "date-time"), "at or after"),
        .query("until", .string(format: "date-time"), "before"),
    ]

    static let authorizeParameters: [P] = [
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
        "code_challenge_method",
    ].map { P.query($0, .string(), $0) }

    static let document: JSONValue = OpenAPI.document(
        title: "Inopsio Identity", version: "1",
        description: "Tenants' users, roles, sign-in and tokens, API keys, OAuth clients and the audit log.",
        operations: operations, schemas: schemas)

    static func register(on routes: RouteRegistrar) {
        routes.get("\(base)/openapi.json") { _, _ in
            try JSONResponse.make(document, headers: [.cacheControl: "public, max-age=300"])
        }
    }
}
