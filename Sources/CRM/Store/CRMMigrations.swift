import Platform

/// The CRM module's tables. Every one is tenant-owned: `tenant_id` leads every key and row-level security hides
/// other tenants' rows on PostgreSQL. Tags and custom fields are kept as JSON text on the record for reading;
/// `crm_record_tags` holds the tags again, one row each, for filtering by tag on an index.
enum CRMMigrations {
    static let tenantTables = [
        "crm_custom_fields", "crm_leads", "crm_companies", "crm_contacts", "crm_record_tags",
    ]

    static let all: [Migration] = [
        Migration(module: "crm", number: 1, name: "create_leads_contacts_companies") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE crm_custom_fields (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    entity TEXT NOT NULL,
                    key TEXT NOT NULL,
                    label TEXT NOT NULL,
                    type TEXT NOT NULL,
                    options TEXT NOT NULL,
                    created_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id),
                    UNIQUE (tenant_id, entity, key)
                )
                """,
                """
                CREATE TABLE crm_leads (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    first_name TEXT,
                    last_name TEXT,
                    name_key TEXT NOT NULL,
                    email TEXT,
                    email_key TEXT,
                    phone TEXT,
                    company TEXT,
                    job_title TEXT,
                    source TEXT NOT NULL,
                    status TEXT NOT NULL,
                    score INTEGER NOT NULL,
                    owner_id TEXT,
                    tags TEXT NOT NULL,
                    custom_fields TEXT NOT NULL,
                    notes TEXT,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE UNIQUE INDEX crm_leads_email ON crm_leads (tenant_id, email_key)",
                "CREATE UNIQUE INDEX crm_leads_phone ON crm_leads (tenant_id, phone)",
                "CREATE INDEX crm_leads_created ON crm_leads (tenant_id, created_at, id)",
                "CREATE INDEX crm_leads_updated ON crm_leads (tenant_id, updated_at, id)",
                "CREATE INDEX crm_leads_status ON crm_leads (tenant_id, status, created_at, id)",
                "CREATE INDEX crm_leads_owner ON crm_leads (tenant_id, owner_id, created_at, id)",
                "CREATE INDEX crm_leads_name ON crm_leads (tenant_id, name_key, id)",
                """
                CREATE TABLE crm_companies (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    name_key TEXT NOT NULL,
                    domain TEXT,
                    industry TEXT,
                    employees INTEGER,
                    phone TEXT,
                    address TEXT,
                    owner_id TEXT,
                    tags TEXT NOT NULL,
                    custom_fields TEXT NOT NULL,
                    notes TEXT,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE UNIQUE INDEX crm_companies_domain ON crm_companies (tenant_id, domain)",
                "CREATE INDEX crm_companies_created ON crm_companies (tenant_id, created_at, id)",
                "CREATE INDEX crm_companies_updated ON crm_companies (tenant_id, updated_at, id)",
                "CREATE INDEX crm_companies_name ON crm_companies (tenant_id, name_key, id)",
                "CREATE INDEX crm_companies_owner ON crm_companies (tenant_id, owner_id, created_at, id)",
                """
                CREATE TABLE crm_contacts (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    first_name TEXT,
                    last_name TEXT,
                    name_key TEXT NOT NULL,
                    email TEXT,
                    email_key TEXT,
                    phone TEXT,
                    job_title TEXT,
                    company_id \(uuid),
                    owner_id TEXT,
                    tags TEXT NOT NULL,
                    custom_fields TEXT NOT NULL,
                    notes TEXT,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE UNIQUE INDEX crm_contacts_email ON crm_contacts (tenant_id, email_key)",
                "CREATE INDEX crm_contacts_created ON crm_contacts (tenant_id, created_at, id)",
                "CREATE INDEX crm_contacts_updated ON crm_contacts (tenant_id, updated_at, id)",
                "CREATE INDEX crm_contacts_name ON crm_contacts (tenant_id, name_key, id)",
                "CREATE INDEX crm_contacts_company ON crm_contacts (tenant_id, company_id, created_at, id)",
                "CREATE INDEX crm_contacts_owner ON crm_contacts (tenant_id, owner_id, created_at, id)",
                """
                CREATE TABLE crm_record_tags (
                    tenant_id \(uuid) NOT NULL,
                    entity TEXT NOT NULL,
                    record_id \(uuid) NOT NULL,
                    tag TEXT NOT NULL,
                    PRIMARY KEY (tenant_id, entity, record_id, tag)
                )
                """,
                "CREATE INDEX crm_record_tags_tag ON crm_record_tags (tenant_id, entity, tag, record_id)",
            ]
            for table in tenantTables {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        Migration(module: "crm", number: 2, name: "create_pipelines_and_deals") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE crm_pipelines (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    is_default INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE crm_stages (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    pipeline_id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    probability INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE INDEX crm_stages_pipeline ON crm_stages (tenant_id, pipeline_id, position)",
                """
                CREATE TABLE crm_deals (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    name TEXT NOT NULL,
                    name_key TEXT NOT NULL,
                    pipeline_id \(uuid) NOT NULL,
                    stage_id \(uuid) NOT NULL,
                    status TEXT NOT NULL,
                    amount_minor BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    probability INTEGER NOT NULL,
                    expected_close TEXT,
                    owner_id TEXT,
                    company_id \(uuid),
                    contact_ids TEXT NOT NULL,
                    lead_id \(uuid),
                    close_reason TEXT,
                    closed_at \(time),
                    tags TEXT NOT NULL,
                    custom_fields TEXT NOT NULL,
                    notes TEXT,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    stage_entered_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                // A lead converts once: at most one deal comes from it.
                "CREATE UNIQUE INDEX crm_deals_lead ON crm_deals (tenant_id, lead_id)",
                "CREATE INDEX crm_deals_stage ON crm_deals (tenant_id, pipeline_id, stage_id, id)",
                "CREATE INDEX crm_deals_created ON crm_deals (tenant_id, created_at, id)",
                "CREATE INDEX crm_deals_updated ON crm_deals (tenant_id, updated_at, id)",
                "CREATE INDEX crm_deals_name ON crm_deals (tenant_id, name_key, id)",
                "CREATE INDEX crm_deals_owner ON crm_deals (tenant_id, owner_id, created_at, id)",
                "CREATE INDEX crm_deals_company ON crm_deals (tenant_id, company_id, created_at, id)",
                // "My leads in this status", the list everyone opens: read in order, without filtering rows out.
                "CREATE INDEX crm_leads_owner_status ON crm_leads (tenant_id, owner_id, status, created_at, id)",
                """
                CREATE TABLE crm_deal_stage_history (
                    tenant_id \(uuid) NOT NULL,
                    deal_id \(uuid) NOT NULL,
                    seq INTEGER NOT NULL,
                    from_stage_id \(uuid),
                    to_stage_id \(uuid) NOT NULL,
                    moved_at \(time) NOT NULL,
                    moved_by TEXT,
                    PRIMARY KEY (tenant_id, deal_id, seq)
                )
                """,
                // What a converted lead became.
                "ALTER TABLE crm_leads ADD COLUMN converted_at \(time)",
                "ALTER TABLE crm_leads ADD COLUMN contact_id \(uuid)",
                "ALTER TABLE crm_leads ADD COLUMN company_id \(uuid)",
                "ALTER TABLE crm_leads ADD COLUMN deal_id \(uuid)",
            ]
            for table in ["crm_pipelines", "crm_stages", "crm_deals", "crm_deal_stage_history"] {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        Migration(module: "crm", number: 3, name: "create_activities") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE crm_activities (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    kind TEXT NOT NULL,
                    subject TEXT,
                    body TEXT,
                    occurred_at \(time) NOT NULL,
                    due_at \(time),
                    remind_at \(time),
                    reminded_at \(time),
                    completed_at \(time),
                    duration_minutes INTEGER,
                    owner_id TEXT,
                    created_by TEXT NOT NULL,
                    mentions TEXT NOT NULL,
                    targets TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE INDEX crm_activities_created ON crm_activities (tenant_id, created_at, id)",
                "CREATE INDEX crm_activities_due ON crm_activities (tenant_id, due_at, id)",
                // "My open tasks by due date".
                "CREATE INDEX crm_activities_owner ON crm_activities (tenant_id, owner_id, completed_at, due_at, id)",
                // An activity's targets again, one row each: a record's timeline is read on an index.
                """
                CREATE TABLE crm_activity_targets (
                    tenant_id \(uuid) NOT NULL,
                    entity TEXT NOT NULL,
                    record_id \(uuid) NOT NULL,
                    activity_id \(uuid) NOT NULL,
                    occurred_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, entity, record_id, activity_id)
                )
                """,
                """
                CREATE INDEX crm_activity_targets_time
                ON crm_activity_targets (tenant_id, entity, record_id, occurred_at, activity_id)
                """,
                "CREATE INDEX crm_activity_targets_activity ON crm_activity_targets (tenant_id, activity_id)",
                // The leads a contact or company was made from, for its timeline.
                "CREATE INDEX crm_leads_contact ON crm_leads (tenant_id, contact_id)",
                "CREATE INDEX crm_leads_company ON crm_leads (tenant_id, company_id)",
            ]
            for table in ["crm_activities", "crm_activity_targets"] {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        Migration(module: "crm", number: 4, name: "create_search_index") { dialect in
            let uuid = dialect.uuidType
            var statements: [String]
            switch dialect {
            case .sqlite:
                // An explicit rowid (`seq`): VACUUM may renumber implicit ones, which the FTS5 table refers to.
                statements = [
                    """
                    CREATE TABLE crm_search (
                        seq INTEGER PRIMARY KEY,
                        tenant_id \(uuid) NOT NULL,
                        entity TEXT NOT NULL,
                        record_id \(uuid) NOT NULL,
                        title TEXT NOT NULL,
                        subtitle TEXT NOT NULL,
                        body TEXT NOT NULL,
                        UNIQUE (tenant_id, entity, record_id)
                    )
                    """,
                    """
                    CREATE VIRTUAL TABLE crm_search_fts USING fts5(
                        title, body, content='crm_search', content_rowid='seq',
                        tokenize='unicode61 remove_diacritics 2')
                    """,
                    """
                    CREATE TRIGGER crm_search_inserted AFTER INSERT ON crm_search BEGIN
                        INSERT INTO crm_search_fts (rowid, title, body) VALUES (new.seq, new.title, new.body);
                    END
                    """,
                    """
                    CREATE TRIGGER crm_search_deleted AFTER DELETE ON crm_search BEGIN
                        INSERT INTO crm_search_fts (crm_search_fts, rowid, title, body)
                        VALUES ('delete', old.seq, old.title, old.body);
                    END
                    """,
                    """
                    CREATE TRIGGER crm_search_updated AFTER UPDATE ON crm_search BEGIN
                        INSERT INTO crm_search_fts (crm_search_fts, rowid, title, body)
                        VALUES ('delete', old.seq, old.title, old.body);
                        INSERT INTO crm_search_fts (rowid, title, body) VALUES (new.seq, new.title, new.body);
                    END
                    """,
                ]
            case .postgres:
                // pg_trgm ships with PostgreSQL and is a trusted extension: the database's owner may create it.
                statements = [
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                    """
                    CREATE TABLE crm_search (
                        tenant_id \(uuid) NOT NULL,
                        entity TEXT NOT NULL,
                        record_id \(uuid) NOT NULL,
                        title TEXT NOT NULL,
                        subtitle TEXT NOT NULL,
                        body TEXT NOT NULL,
                        document tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')
                        ) STORED,
                        PRIMARY KEY (tenant_id, entity, record_id)
                    )
                    """,
                    "CREATE INDEX crm_search_document ON crm_search USING GIN (document)",
                    "CREATE INDEX crm_search_title ON crm_search USING GIN (lower(title) gin_trgm_ops)",
                ]
                statements += TenantIsolation.statements(table: "crm_search", dialect: dialect)
            }
            // The records that exist already (their addresses split into words here by replacing @ and dots).
            func words(_ column: String) -> String {
                "COALESCE(\(column) || ' ' || replace(replace(\(column), '@', ' '), '.', ' '), '')"
            }
            func name(_ first: String, _ last: String) -> String {
                "TRIM(COALESCE(\(first), '') || ' ' || COALESCE(\(last), ''))"
            }
            // Row-level security hides every row from the migration (it has no tenant): its owner lifts it for the
            // copy, in the migration's transaction, and puts it back.
            let copied = ["crm_leads", "crm_contacts", "crm_companies", "crm_deals", "crm_search"]
            if dialect == .postgres {
                statements += copied.map { "ALTER TABLE \($0) NO FORCE ROW LEVEL SECURITY" }
            }
            statements += [
                """
                INSERT INTO crm_search (tenant_id, entity, record_id, title, subtitle, body)
                SELECT tenant_id, 'lead', id, CASE WHEN name_key = '' THEN COALESCE(email, '') ELSE \(name("first_name", "last_name")) END,
                       TRIM(COALESCE(email, '') || ' ' || COALESCE(company, '')),
                       \(words("email")) || ' ' || COALESCE(company, '') || ' ' || COALESCE(job_title, '') || ' '
                         || COALESCE(phone, '') || ' ' || source || ' ' || tags || ' ' || COALESCE(notes, '')
                FROM crm_leads
                """,
                """
                INSERT INTO crm_search (tenant_id, entity, record_id, title, subtitle, body)
                SELECT tenant_id, 'contact', id, CASE WHEN name_key = '' THEN COALESCE(email, '') ELSE \(name("first_name", "last_name")) END,
                       TRIM(COALESCE(email, '') || ' ' || COALESCE(job_title, '')),
                       \(words("email")) || ' ' || COALESCE(job_title, '') || ' ' || COALESCE(phone, '') || ' ' || tags
                         || ' ' || COALESCE(notes, '')
                FROM crm_contacts
                """,
                """
                INSERT INTO crm_search (tenant_id, entity, record_id, title, subtitle, body)
                SELECT tenant_id, 'company', id, name, TRIM(COALESCE(domain, '') || ' ' || COALESCE(industry, '')),
                       \(words("domain")) || ' ' || COALESCE(industry, '') || ' ' || tags || ' ' || COALESCE(notes, '')
                FROM crm_companies
                """,
                """
                INSERT INTO crm_search (tenant_id, entity, record_id, title, subtitle, body)
                SELECT tenant_id, 'deal', id, name, currency || ' ' || CAST(amount_minor AS TEXT),
                       tags || ' ' || COALESCE(notes, '')
                FROM crm_deals
                """,
            ]
            if dialect == .postgres {
                statements += copied.map { "ALTER TABLE \($0) FORCE ROW LEVEL SECURITY" }
            }
            return statements
        },
        Migration(module: "crm", number: 5, name: "create_saved_views") { dialect in
            let time = dialect.timestampType
            return [
                """
                CREATE TABLE crm_saved_views (
                    tenant_id \(dialect.uuidType) NOT NULL,
                    id \(dialect.uuidType) NOT NULL,
                    owner_id TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    name TEXT NOT NULL,
                    query TEXT NOT NULL,
                    shared INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE UNIQUE INDEX crm_saved_views_name ON crm_saved_views (tenant_id, owner_id, entity, lower(name))",
                "CREATE INDEX crm_saved_views_entity ON crm_saved_views (tenant_id, entity, shared)",
            ] + TenantIsolation.statements(table: "crm_saved_views", dialect: dialect)
        },
        Migration(module: "crm", number: 6, name: "create_assignment_rules") { dialect in
            let time = dialect.timestampType
            return [
                """
                CREATE TABLE crm_assignment_rules (
                    tenant_id \(dialect.uuidType) NOT NULL,
                    id \(dialect.uuidType) NOT NULL,
                    name TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    active INTEGER NOT NULL,
                    conditions TEXT NOT NULL,
                    method TEXT NOT NULL,
                    users TEXT NOT NULL,
                    next_index INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    created_at \(time) NOT NULL,
                    updated_at \(time) NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """
            ] + TenantIsolation.statements(table: "crm_assignment_rules", dialect: dialect)
        },
        Migration(module: "crm", number: 7, name: "create_imports") { dialect in
            let uuid = dialect.uuidType
            let time = dialect.timestampType
            var statements = [
                """
                CREATE TABLE crm_imports (
                    tenant_id \(uuid) NOT NULL,
                    id \(uuid) NOT NULL,
                    entity TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    content TEXT NOT NULL,
                    columns TEXT NOT NULL,
                    row_count INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    dry_run INTEGER NOT NULL,
                    mapping TEXT NOT NULL,
                    on_duplicate TEXT NOT NULL,
                    progress TEXT NOT NULL,
                    error TEXT,
                    created_by TEXT NOT NULL,
                    default_owner TEXT,
                    created_at \(time) NOT NULL,
                    started_at \(time),
                    finished_at \(time),
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                "CREATE INDEX crm_imports_created ON crm_imports (tenant_id, created_at, id)",
                """
                CREATE TABLE crm_import_errors (
                    tenant_id \(uuid) NOT NULL,
                    import_id \(uuid) NOT NULL,
                    row_number INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    message TEXT NOT NULL,
                    PRIMARY KEY (tenant_id, import_id, row_number, field)
                )
                """,
                // What each imported row became, by a fingerprint of its mapped values: importing the same row
                // again finds its record instead of making another.
                """
                CREATE TABLE crm_import_rows (
                    tenant_id \(uuid) NOT NULL,
                    entity TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    record_id \(uuid) NOT NULL,
                    PRIMARY KEY (tenant_id, entity, fingerprint)
                )
                """,
            ]
            for table in ["crm_imports", "crm_import_errors", "crm_import_rows"] {
                statements += TenantIsolation.statements(table: table, dialect: dialect)
            }
            return statements
        },
        AttachmentStore.migration,
    ]
}
