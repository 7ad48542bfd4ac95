import Platform

extension AttachmentStore {
    /// CRM migration 8: the table of attached files.
    static let migration = Migration(module: "crm", number: 8, name: "create_attachments") { dialect in
        let uuid = dialect.uuidType
        let time = dialect.timestampType
        return [
            """
            CREATE TABLE crm_attachments (
                tenant_id \(uuid) NOT NULL,
                id \(uuid) NOT NULL,
                record_type TEXT NOT NULL,
                record_id \(uuid) NOT NULL,
                name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at \(time) NOT NULL,
                PRIMARY KEY (tenant_id, id)
            )
            """,
            "CREATE INDEX crm_attachments_record ON crm_attachments (tenant_id, record_type, record_id, created_at, id)",
        ] + TenantIsolation.statements(table: "crm_attachments", dialect: dialect)
    }
}
