/// The platform's own tables: tenants, the audit log and the event backbone's. Owned by the pseudo-module `platform`, applied before any
/// module's.
package enum PlatformMigrations {
    package static let all: [Migration] = [
        Migration(module: "platform", number: 1, name: "create_tenants") { dialect in
            [
                """
                CREATE TABLE tenants (
                    id \(dialect.uuidType) PRIMARY KEY,
                    slug TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
                    plan TEXT NOT NULL DEFAULT 'standard',
                    created_at \(dialect.timestampType) NOT NULL
                )
                """
            ]
        },
        Migration(module: "platform", number: 2, name: "create_audit_log") { dialect in
            let table = """
                CREATE TABLE audit_log (
                    tenant_id \(dialect.uuidType) NOT NULL,
                    seq BIGINT NOT NULL,
                    id TEXT NOT NULL,
                    occurred_at \(dialect.timestampType) NOT NULL,
                    action TEXT NOT NULL,
                    actor_kind TEXT NOT NULL,
                    actor_id TEXT,
                    actor_name TEXT,
                    outcome TEXT NOT NULL,
                    target_type TEXT,
                    target_id TEXT,
                    ip TEXT,
                    request_id TEXT,
                    data TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    PRIMARY KEY (tenant_id, seq)
                )
                """
            let indexes = [
                "CREATE INDEX audit_log_by_time ON audit_log (tenant_id, occurred_at)",
                "CREATE INDEX audit_log_by_actor ON audit_log (tenant_id, actor_id, seq)",
                "CREATE INDEX audit_log_by_target ON audit_log (tenant_id, target_type, target_id, seq)",
            ]
            // Append-only: updates are refused by the database itself (deletes stay possible for retention).
            let guardStatements: [String] =
                switch dialect {
                case .sqlite:
                    [
                        """
                        CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
                        """
                    ]
                case .postgres:
                    [
                        """
                        CREATE FUNCTION audit_log_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
                        """,
                        """
                        CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
                        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_update()
                        """,
                    ]
                }
            return [table] + indexes + guardStatements
                + TenantIsolation.statements(table: "audit_log", dialect: dialect)
        },
        EventMigrations.create,
        Jobs.migration,
        JobScheduler.migration,
        Migration(module: "platform", number: 6, name: "audit_log_lanes") { dialect in
            let lane = "ALTER TABLE audit_log ADD COLUMN lane INTEGER NOT NULL DEFAULT 0"
            switch dialect {
            case .sqlite:
                return [lane]
            case .postgres:
                // Existing records are lane 0; the sequence starts above every tenant's last `seq`, which the
                // migration's role (the table's owner) sees only with the row-level security set aside for it.
                return [
                    lane,
                    "CREATE INDEX audit_log_by_lane ON audit_log (tenant_id, lane, seq)",
                    "CREATE SEQUENCE audit_log_seq",
                    """
                    DO $$ BEGIN
                        ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
                        PERFORM setval('audit_log_seq', COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1, false);
                        ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
                    END $$
                    """,
                ]
            }
        },
        SecretKeyRegistry.migration,
    ]
}
