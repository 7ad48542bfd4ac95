INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, tenant_id, created_at)
SELECT gen_random_uuid(), 'bench', 'agg-' || g, 'bench.event',
 '{"specversion":"1.0","type":"bench.event","source":"/bench","tenantid":"00000000-0000-0000-0000-0000000000aa","data":{"n":1}}'::jsonb,
 '00000000-0000-0000-0000-0000000000aa', 0 FROM generate_series(1, 50) g;
