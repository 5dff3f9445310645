-- Version 5: API tokens for the HTTP server.

-- One row per bearer token. Only the SHA-256 of the secret is stored: a copy of the database (a
-- backup, a replica) does not hand out working tokens. The secret is shown once, at creation.
CREATE TABLE {schema}.token (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Who the token belongs to; recorded as the actor of every operator action made with it.
  name         text        NOT NULL,
  -- work | start | read | admin (admin implies the others).
  scopes       text[]      NOT NULL,
  -- Hex SHA-256 of the whole secret (`tl_…`).
  hash         text        NOT NULL,
  created_by   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Refreshed at most once a minute, so authenticating does not write on every request.
  last_used_at timestamptz,
  revoked_at   timestamptz,
  revoked_by   text,
  CONSTRAINT token_scopes_check CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['work', 'start', 'read', 'admin']::text[])
);

-- Authentication looks a token up by the hash of what the client presented.
CREATE UNIQUE INDEX token_hash_idx ON {schema}.token (hash);

-- A name names one live token, so the audit trail is unambiguous; a revoked token frees its name.
CREATE UNIQUE INDEX token_name_idx ON {schema}.token (name) WHERE revoked_at IS NULL;
