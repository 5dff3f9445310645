-- Named queries on {schema}.push_endpoint.

-- name: PushUpsert
INSERT INTO {schema}.push_endpoint (topic, url, method, headers, timeout_ms, secret)
VALUES ($1, $2, $3, $4::jsonb, $5, $6)
ON CONFLICT (topic) DO UPDATE
   SET url = EXCLUDED.url, method = EXCLUDED.method, headers = EXCLUDED.headers,
       timeout_ms = EXCLUDED.timeout_ms, secret = EXCLUDED.secret, updated_at = now()
RETURNING *, (xmax = 0) AS created;

-- name: PushList
SELECT * FROM {schema}.push_endpoint ORDER BY topic;

-- name: PushDelete
DELETE FROM {schema}.push_endpoint WHERE topic = $1 RETURNING topic;
