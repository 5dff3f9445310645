-- Version 9: push endpoints defined at runtime (over the HTTP API): tasks of `topic` are POSTed
-- to `url` by the servers' push runner, as `webhook()` does for topics defined in code.
CREATE TABLE {schema}.push_endpoint (
  topic       text        PRIMARY KEY,
  url         text        NOT NULL,
  method      text        NOT NULL DEFAULT 'POST',
  headers     jsonb       NOT NULL DEFAULT '{}',
  timeout_ms  integer     NOT NULL DEFAULT 30000,
  secret      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
