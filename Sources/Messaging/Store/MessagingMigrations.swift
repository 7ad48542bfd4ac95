import Platform

/// The Messaging module's tables (JSON kept as TEXT: nothing queries inside it in SQL; segments match in Swift). Every table but `messaging_keys` is tenant-owned: `tenant_id` leads every key
/// and row-level security hides other tenants' rows on PostgreSQL. `messaging_keys` holds the installation's
/// secret for signing tracking and unsubscribe links (one per installation, like Identity's signing keys).
enum MessagingMigrations {
    static let tenantTables = [
        "messaging_settings", "messaging_templates", "messaging_contacts", "messaging_lists", "messaging_list_members",
        "messaging_suppressions", "messaging_campaigns", "messaging_messages",
    ]

    static let all: [Migration] = [
        Migration(module: "messaging", number: 1, name: "create_messaging_tables") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE messaging_keys (
                    id INTEGER PRIMARY KEY,
                    secret TEXT NOT NULL,
                    created_at \(time) NOT NULL
                )
                """,
                """
                CREATE TABLE messaging_settings (
                    tenant_id \(uuid) NOT NULL PRIMARY KEY,
                    from_name TEXT,
                    from_address TEXT,
                    reply_to TEXT,
                    default_locale TEXT NOT NULL,
                    brand TEXT NOT NULL,
                    updated_at \(time) NOT NULL
                )
                """,
                """
                CREATE TABLE messaging_templates (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    key TEXT NOT NULL,
                    locale TEXT NOT NULL,
                    name TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    html TEXT,
                    text TEXT NOT NULL,
                    version INTEGER NOT NULL DEFAULT 1,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id),
                    UNIQUE (tenant_id, key, locale)
                )
                """,
                """
                CREATE TABLE messaging_contacts (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL,
                    name TEXT,
                    locale TEXT,
                    attributes TEXT NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id),
                    UNIQUE (tenant_id, email_key)
                )
                """,
                """
                CREATE TABLE messaging_lists (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    segment TEXT,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE messaging_list_members (
                    tenant_id \(uuid) NOT NULL,
                    list_id \(uuid) NOT NULL,
                    contact_id \(uuid) NOT NULL,
                    added_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, list_id, contact_id)
                )
                """,
                """
                CREATE TABLE messaging_suppressions (
                    tenant_id \(uuid) NOT NULL,
                    email_key TEXT NOT NULL,
                    reason TEXT NOT NULL CHECK (reason IN ('unsubscribed', 'hard_bounce', 'complaint', 'manual')),
                    detail TEXT,
                    created_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, email_key)
                )
                """,
                """
                CREATE TABLE messaging_campaigns (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    list_id \(uuid) NOT NULL,
                    template_key TEXT NOT NULL,
                    status TEXT NOT NULL
                        CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
                    scheduled_at \(time),
                    started_at \(time),
                    finished_at \(time),
                    rate_per_minute INTEGER NOT NULL,
                    batch_size INTEGER NOT NULL,
                    run_token TEXT,
                    materialized_at \(time),
                    created_by TEXT,
                    version INTEGER NOT NULL DEFAULT 1,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE messaging_messages (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    campaign_id \(uuid),
                    contact_id \(uuid),
                    email TEXT NOT NULL,
                    name TEXT,
                    locale TEXT,
                    template_key TEXT NOT NULL,
                    data TEXT NOT NULL,
                    status TEXT NOT NULL
                        CHECK (status IN ('queued', 'sent', 'failed', 'bounced', 'suppressed', 'cancelled')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    error TEXT,
                    subject TEXT,
                    created_at \(time) NOT NULL,
                    sent_at \(time),
                    opened_at \(time),
                    open_count INTEGER NOT NULL DEFAULT 0,
                    clicked_at \(time),
                    click_count INTEGER NOT NULL DEFAULT 0,
                    unsubscribed_at \(time),
                    PRIMARY KEY (tenant_id, id),
                    UNIQUE (tenant_id, campaign_id, contact_id)
                )
                """,
                "CREATE INDEX messaging_messages_by_campaign ON messaging_messages (tenant_id, campaign_id, status, id)",
            ]
            for table in tenantTables {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        Migration(module: "messaging", number: 2, name: "create_webhook_tables") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE messaging_webhook_endpoints (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    url TEXT NOT NULL,
                    description TEXT NOT NULL,
                    event_types TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    previous_secret TEXT,
                    previous_secret_expires_at \(time),
                    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                    disabled_reason TEXT,
                    failure_streak INTEGER NOT NULL DEFAULT 0,
                    created_by TEXT,
                    version INTEGER NOT NULL DEFAULT 1,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE messaging_webhook_deliveries (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    endpoint_id \(uuid) NOT NULL,
                    event_id TEXT NOT NULL,
                    event_type TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_status_code INTEGER,
                    last_error TEXT,
                    created_at \(time) NOT NULL,
                    completed_at \(time),
                    PRIMARY KEY (tenant_id, id),
                    UNIQUE (tenant_id, endpoint_id, event_id)
                )
                """,
                """
                CREATE INDEX messaging_webhook_deliveries_by_endpoint
                ON messaging_webhook_deliveries (tenant_id, endpoint_id, id)
                """,
                """
                CREATE TABLE messaging_webhook_attempts (
                    tenant_id \(uuid) NOT NULL,
                    delivery_id \(uuid) NOT NULL,
                    attempt INTEGER NOT NULL,
                    status_code INTEGER,
                    error TEXT,
                    response_body TEXT,
                    duration_ms INTEGER NOT NULL,
                    attempted_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, delivery_id, attempt)
                )
                """,
            ]
            for table in ["messaging_webhook_endpoints", "messaging_webhook_deliveries", "messaging_webhook_attempts"] {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        Migration(module: "messaging", number: 3, name: "claim_campaign_messages") { _ in
            [
                "ALTER TABLE messaging_messages ADD COLUMN claimed_by TEXT",
                "ALTER TABLE messaging_messages ADD COLUMN claimed_until BIGINT",
            ]
        },
        // The link key and webhook secrets were stored in plaintext before.
        Migration.sealSecrets(module: "messaging", number: 4, columns: MessagingSecrets.all),
    ]
}
