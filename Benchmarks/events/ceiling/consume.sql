WITH taken AS (DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT 50 FOR UPDATE SKIP LOCKED) RETURNING id, tenant_id),
 p AS (INSERT INTO processed SELECT 'bench', id, 0 FROM taken RETURNING event_id)
INSERT INTO effects SELECT tenant_id, id, 1 FROM taken;
