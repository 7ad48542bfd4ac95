CREATE TABLE outbox (seq bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, aggregatetype text NOT NULL, aggregateid text NOT NULL,
  type text NOT NULL, payload jsonb NOT NULL, tenant_id uuid NOT NULL, created_at bigint NOT NULL);
CREATE TABLE processed (consumer_group text NOT NULL, event_id uuid NOT NULL, processed_at bigint NOT NULL, PRIMARY KEY (consumer_group, event_id));
CREATE TABLE effects (tenant_id uuid NOT NULL, id uuid NOT NULL, n bigint, PRIMARY KEY (tenant_id, id));
