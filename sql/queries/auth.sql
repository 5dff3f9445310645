-- Named queries on {schema}.token (API tokens of the HTTP server).

-- name: TokenInsert
-- $1 name, $2 scopes, $3 hash, $4 actor. Nothing comes back when a live token has the name.
INSERT INTO {schema}.token (name, scopes, hash, created_by)
VALUES ($1, $2::text[], $3, $4)
ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
RETURNING *;

-- name: TokenInsertFirst
-- The embedded server's first start: a token only when the table has never held one (a revoked
-- token counts, so revoking every token does not mint a new admin token at the next start).
INSERT INTO {schema}.token (name, scopes, hash, created_by)
SELECT $1, $2::text[], $3, $4
 WHERE NOT EXISTS (SELECT 1 FROM {schema}.token)
RETURNING *;

-- name: TokenAny
SELECT EXISTS (SELECT 1 FROM {schema}.token WHERE revoked_at IS NULL) AS live,
       EXISTS (SELECT 1 FROM {schema}.token) AS ever;

-- name: TokenList
SELECT * FROM {schema}.token ORDER BY id;

-- name: TokenGet
SELECT * FROM {schema}.token WHERE id = $1;

-- name: TokenAuthenticate
-- The live token with hash $1, if any. Its last_used_at moves only when it is a minute old, so
-- a busy client writes the row once a minute, not once a request.
WITH found AS (
  SELECT id, name, scopes, last_used_at FROM {schema}.token WHERE hash = $1 AND revoked_at IS NULL
), touched AS (
  UPDATE {schema}.token t SET last_used_at = now()
    FROM found
   WHERE t.id = found.id AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute')
)
SELECT id, name, scopes FROM found;

-- name: TokenRevoke
UPDATE {schema}.token SET revoked_at = now(), revoked_by = $2
 WHERE id = $1 AND revoked_at IS NULL
RETURNING *;
