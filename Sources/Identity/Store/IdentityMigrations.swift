import Platform

/// The Identity module's tables. Tenant-owned tables have `tenant_id` first in every key and sit behind
/// row-level security. Three tables are deliberately not tenant-owned: `identity_signing_keys` (one issuer for
/// the whole installation), `identity_credentials` (maps the SHA-256 of a presented refresh token or API key to
/// its tenant, so the tenant can be found before a tenant transaction starts; it is useless without the secret),
/// `identity_throttle` (per-IP failure counters across tenants), `identity_revoked_sessions` (what every
/// verifier must refuse) and `identity_mail_quota` (mails per address or user).
enum IdentityMigrations {
    static let all: [Migration] = [
        Migration(module: "identity", number: 1, name: "create_identity_tables") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE identity_users (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    email TEXT NOT NULL,
                    name TEXT NOT NULL,
                    password_hash TEXT,
                    status TEXT NOT NULL CHECK (status IN ('active', 'invited', 'deactivated')),
                    email_verified_at \(time),
                    locale TEXT,
                    time_zone TEXT,
                    failed_logins INTEGER NOT NULL DEFAULT 0,
                    last_failed_at \(time),
                    locked_until \(time),
                    last_login_at \(time),
                    totp_secret TEXT,
                    totp_enabled_at \(time),
                    totp_last_step BIGINT,
                    backup_codes TEXT,
                    version INTEGER NOT NULL DEFAULT 1,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id),
                    UNIQUE (tenant_id, email)
                )
                """,
                """
                CREATE TABLE identity_user_roles (
                    tenant_id \(uuid) NOT NULL,
                    user_id \(uuid) NOT NULL,
                    role TEXT NOT NULL,
                    PRIMARY KEY (tenant_id, user_id, role)
                )
                """,
                """
                CREATE TABLE identity_roles (
                    tenant_id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    permissions TEXT NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, name)
                )
                """,
                """
                CREATE TABLE identity_sessions (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    user_id \(uuid) NOT NULL,
                    client_id TEXT,
                    scope TEXT NOT NULL,
                    ip TEXT,
                    user_agent TEXT,
                    created_at \(time) NOT NULL,
                    last_used_at \(time) NOT NULL,
                    expires_at \(time) NOT NULL,
                    revoked_at \(time),
                    revoked_reason TEXT,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE INDEX identity_sessions_by_user ON identity_sessions (tenant_id, user_id, created_at)",
                """
                CREATE TABLE identity_refresh_tokens (
                    tenant_id \(uuid) NOT NULL,
                    token_hash TEXT NOT NULL,
                    session_id \(uuid) NOT NULL,
                    issued_at \(time) NOT NULL,
                    used_at \(time),
                    PRIMARY KEY (tenant_id, token_hash)
                )
                """,
                "CREATE INDEX identity_refresh_tokens_by_session ON identity_refresh_tokens (tenant_id, session_id)",
                """
                CREATE TABLE identity_api_keys (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    key_hash TEXT NOT NULL,
                    permissions TEXT NOT NULL,
                    created_by TEXT,
                    created_at \(time) NOT NULL,
                    expires_at \(time),
                    last_used_at \(time),
                    revoked_at \(time),
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE identity_tenant_settings (
                    tenant_id \(uuid) NOT NULL PRIMARY KEY,
                    locale TEXT NOT NULL,
                    time_zone TEXT NOT NULL,
                    theme_colour TEXT NOT NULL,
                    enabled_modules TEXT NOT NULL,
                    mfa_required_roles TEXT NOT NULL,
                    audit_retention_days INTEGER NOT NULL,
                    updated_at \(time) NOT NULL
                )
                """,
                """
                CREATE TABLE identity_credentials (
                    token_hash TEXT PRIMARY KEY,
                    tenant_id \(uuid) NOT NULL,
                    kind TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE identity_signing_keys (
                    kid TEXT PRIMARY KEY,
                    private_key TEXT NOT NULL,
                    created_at \(time) NOT NULL,
                    activates_at \(time) NOT NULL,
                    retired_at \(time)
                )
                """,
                """
                CREATE TABLE identity_throttle (
                    subject TEXT PRIMARY KEY,
                    failures INTEGER NOT NULL,
                    last_failure_at \(time) NOT NULL,
                    blocked_until \(time)
                )
                """,
            ]
            for table in [
                "identity_users", "identity_user_roles", "identity_roles", "identity_sessions",
                "identity_refresh_tokens", "identity_api_keys", "identity_tenant_settings",
            ] {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        Migration(module: "identity", number: 2, name: "create_oauth_tables") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE identity_oauth_clients (
                    tenant_id \(uuid) NOT NULL,
                    client_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    client_type TEXT NOT NULL CHECK (client_type IN ('public', 'confidential')),
                    secret_hash TEXT,
                    redirect_uris TEXT NOT NULL,
                    allowed_scopes TEXT NOT NULL,
                    grant_types TEXT NOT NULL,
                    created_by TEXT,
                    created_at \(time) NOT NULL,
                    revoked_at \(time),
                    PRIMARY KEY (tenant_id, client_id)
                )
                """,
                """
                CREATE TABLE identity_client_directory (
                    client_id TEXT PRIMARY KEY,
                    tenant_id \(uuid) NOT NULL
                )
                """,
                """
                CREATE TABLE identity_authorization_codes (
                    tenant_id \(uuid) NOT NULL,
                    code_hash TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    user_id \(uuid) NOT NULL,
                    redirect_uri TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    nonce TEXT,
                    code_challenge TEXT NOT NULL,
                    auth_time \(time) NOT NULL,
                    expires_at \(time) NOT NULL,
                    used_at \(time),
                    session_id \(uuid),
                    PRIMARY KEY (tenant_id, code_hash)
                )
                """,
            ]
            for table in ["identity_oauth_clients", "identity_authorization_codes"] {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        Migration(module: "identity", number: 3, name: "create_action_tokens") { dialect in
            [
                """
                CREATE TABLE identity_action_tokens (
                    tenant_id \(dialect.uuidType) NOT NULL,
                    token_hash TEXT NOT NULL,
                    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset', 'email_verification')),
                    user_id \(dialect.uuidType) NOT NULL,
                    created_at \(dialect.timestampType) NOT NULL,
                    expires_at \(dialect.timestampType) NOT NULL,
                    used_at \(dialect.timestampType),
                    PRIMARY KEY (tenant_id, token_hash)
                )
                """,
                "CREATE INDEX identity_action_tokens_by_user ON identity_action_tokens (tenant_id, user_id, purpose)",
            ] + TenantIsolation.statements(table: "identity_action_tokens", dialect: dialect)
        },
        Migration(module: "identity", number: 4, name: "create_identity_providers") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE identity_providers (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('oidc', 'github')),
                    issuer TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    client_secret TEXT,
                    scopes TEXT NOT NULL,
                    role_rules TEXT NOT NULL,
                    default_roles TEXT NOT NULL,
                    create_users BOOLEAN NOT NULL,
                    sync_roles BOOLEAN NOT NULL,
                    enabled BOOLEAN NOT NULL,
                    created_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE identity_external_accounts (
                    tenant_id \(uuid) NOT NULL,
                    provider_id \(uuid) NOT NULL,
                    subject TEXT NOT NULL,
                    user_id \(uuid) NOT NULL,
                    created_at \(time) NOT NULL,
                    last_login_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, provider_id, subject)
                )
                """,
                """
                CREATE TABLE identity_federation_states (
                    tenant_id \(uuid) NOT NULL,
                    state_hash TEXT NOT NULL,
                    provider_id \(uuid) NOT NULL,
                    nonce TEXT NOT NULL,
                    code_verifier TEXT NOT NULL,
                    authorize_parameters TEXT NOT NULL,
                    expires_at \(time) NOT NULL,
                    used_at \(time),
                    PRIMARY KEY (tenant_id, state_hash)
                )
                """,
            ]
            for table in ["identity_providers", "identity_external_accounts", "identity_federation_states"] {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        // Not tenant-owned: every process's verifiers read it to refuse a revoked session's access tokens at once,
        // before any tenant is known. It holds session ids and times only; rows older than the longest access
        // token lifetime are of no use and are removed by the daily maintenance.
        Migration(module: "identity", number: 5, name: "create_revoked_sessions") { dialect in
            [
                """
                CREATE TABLE identity_revoked_sessions (
                    session_id TEXT PRIMARY KEY,
                    revoked_at \(dialect.timestampType) NOT NULL
                )
                """,
                "CREATE INDEX identity_revoked_sessions_by_time ON identity_revoked_sessions (revoked_at)",
            ]
        },
        // Not tenant-owned either: how many mails of a kind went to an address (across tenants) or for a user in
        // the current window (`MailQuota`), so that nobody can flood a mailbox through Identity.
        Migration(module: "identity", number: 6, name: "create_mail_quota") { dialect in
            [
                """
                CREATE TABLE identity_mail_quota (
                    subject TEXT PRIMARY KEY,
                    window_start \(dialect.timestampType) NOT NULL,
                    sent INTEGER NOT NULL
                )
                """
            ]
        },
        // Signing keys, TOTP secrets and client secrets were stored in plaintext before.
        Migration.sealSecrets(module: "identity", number: 7, columns: IdentitySecrets.all),
    ]
}
