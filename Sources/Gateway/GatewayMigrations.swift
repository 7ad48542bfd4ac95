import Platform

/// The gateway's tables. `gateway_blocks` is installation-wide, not tenant-owned: the edge consults it before
/// it knows (or trusts) a tenant.
enum GatewayMigrations {
    static let all: [Migration] = [
        Migration(module: "gateway", number: 1, name: "create_gateway_blocks") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            return [
                """
                CREATE TABLE gateway_blocks (
                    id \(uuid) PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('ip', 'api_key')),
                    value TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(time) NOT NULL,
                    expires_at \(time)
                )
                """,
                "CREATE INDEX gateway_blocks_expiry ON gateway_blocks (expires_at)",
            ]
        }
    ]
}
