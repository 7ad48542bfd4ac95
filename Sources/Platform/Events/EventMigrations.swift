/// The event backbone's tables (platform migration 3):
/// - `event_outbox`: events written in the same transaction as the change they describe. Its `id`,
///   `aggregatetype`, `aggregateid`, `type` and `payload` columns are the ones Debezium's outbox event router reads,
///   so the table can be streamed to Kafka unchanged; `payload` holds the whole CloudEvents envelope.
/// - `event_subscriptions`: which consumer group wants which event types (each process registers its own).
/// - `event_deliveries`: one row per event and subscribed group, from the relay until the group is done with it
///   (the row is deleted) or gives up (`dead`, kept 7 days for inspection and replay).
/// - `event_processed`: the event ids each group has applied, written in the consumer's own transaction.
///
/// None of these tables has row-level security: the relay and the consumers read every tenant's events, and the
/// consumer's transaction is scoped to the event's tenant for the consumer's own tables.
enum EventMigrations {
    static let create = Migration(module: "platform", number: 3, name: "create_event_backbone") { dialect in
        let serial =
            switch dialect {
            case .sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT"
            case .postgres: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            }
        return [
            """
            CREATE TABLE event_outbox (
                seq \(serial),
                id TEXT NOT NULL UNIQUE,
                aggregatetype TEXT NOT NULL,
                aggregateid TEXT NOT NULL,
                type TEXT NOT NULL,
                payload \(dialect.jsonType) NOT NULL,
                tenant_id \(dialect.uuidType) NOT NULL,
                traceparent TEXT,
                created_at \(dialect.timestampType) NOT NULL,
                relayed_at \(dialect.timestampType)
            )
            """,
            "CREATE INDEX event_outbox_unrelayed ON event_outbox (seq) WHERE relayed_at IS NULL",
            """
            CREATE TABLE event_subscriptions (
                consumer_group TEXT NOT NULL,
                event_type TEXT NOT NULL,
                PRIMARY KEY (consumer_group, event_type)
            )
            """,
            """
            CREATE TABLE event_deliveries (
                seq \(serial),
                consumer_group TEXT NOT NULL,
                event_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                aggregate_key TEXT NOT NULL,
                tenant_id \(dialect.uuidType) NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'leased', 'dead')),
                attempts INTEGER NOT NULL DEFAULT 0,
                available_at \(dialect.timestampType) NOT NULL,
                lease_until \(dialect.timestampType),
                leased_by TEXT,
                last_error TEXT,
                dead_at \(dialect.timestampType),
                UNIQUE (consumer_group, event_id)
            )
            """,
            "CREATE INDEX event_deliveries_ready ON event_deliveries (consumer_group, status, available_at, seq)",
            "CREATE INDEX event_deliveries_aggregate ON event_deliveries (consumer_group, aggregate_key, seq)",
            "CREATE INDEX event_deliveries_event ON event_deliveries (event_id)",
            """
            CREATE TABLE event_processed (
                consumer_group TEXT NOT NULL,
                event_id TEXT NOT NULL,
                processed_at \(dialect.timestampType) NOT NULL,
                PRIMARY KEY (consumer_group, event_id)
            )
            """,
            "CREATE INDEX event_processed_by_time ON event_processed (processed_at)",
        ]
    }
}
