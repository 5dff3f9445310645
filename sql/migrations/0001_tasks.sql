-- Tasklane schema, version 1: tasks, their attempt history and their events.
-- `{schema}` is replaced by the configured schema name (default `tasklane`);
-- `tasklane migrate --print` prints this file rendered.

CREATE TABLE {schema}.task (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic             text        NOT NULL,
  state             text        NOT NULL,
  payload           jsonb,
  result            jsonb,
  -- The latest attempt's error: { message, stack?, name?, code?, businessCode?, attempt }.
  error             jsonb,
  priority          integer     NOT NULL DEFAULT 0,
  run_at            timestamptz NOT NULL,
  attempt           integer     NOT NULL DEFAULT 0,
  max_attempts      integer     NOT NULL,
  -- Retry policy, resolved at enqueue so any node (and the SQL that fails a task) applies it.
  backoff           text        NOT NULL,
  backoff_initial_ms integer    NOT NULL,
  backoff_max_ms    integer     NOT NULL,
  backoff_jitter    boolean     NOT NULL,
  tags              text[]      NOT NULL DEFAULT '{}',
  key               text,
  process_id        bigint,
  step              text,
  -- Lease: who runs the current attempt, the fencing token it must present, until when.
  -- lease_token grows by one on every claim; a completion carrying an older token is stale.
  lease_owner       text,
  lease_token       integer     NOT NULL DEFAULT 0,
  lease_expires_at  timestamptz,
  attempted_at      timestamptz,
  heartbeat_at      timestamptz,
  progress          jsonb,
  -- Timeouts in milliseconds (null: none). Enforced by the worker and the maintenance leader.
  start_to_close_ms     integer,
  heartbeat_timeout_ms  integer,
  schedule_to_start_ms  integer,
  schedule_to_close_ms  integer,
  -- The state a suspended task resumes to.
  resume_state      text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  CONSTRAINT task_state_check CHECK (state IN
    ('pending', 'ready', 'running', 'waiting', 'suspended', 'completed', 'failed', 'cancelled', 'expired')),
  CONSTRAINT task_backoff_check CHECK (backoff IN ('constant', 'linear', 'exponential'))
);

-- The claim path. Partial: finished tasks never enter it, so the index the claim walks stays the
-- size of the backlog however long the history grows. Ordered exactly as the claim orders.
CREATE INDEX task_claim_idx ON {schema}.task (priority DESC, run_at, id) WHERE state = 'ready';

-- Idempotency keys: unique among all tasks that still exist (pruning frees a key).
CREATE UNIQUE INDEX task_key_idx ON {schema}.task (key) WHERE key IS NOT NULL;

-- Listing by state for operators. Completed tasks, the bulk of any history, are left out so the
-- completing update writes no entry here; listing completed tasks walks the primary key instead.
CREATE INDEX task_state_idx ON {schema}.task (state, id) WHERE state <> 'completed';

-- Leases that can expire, for the rescuer.
CREATE INDEX task_lease_idx ON {schema}.task (lease_expires_at) WHERE state = 'running';

-- Every attempt that did not end in success (the task row itself carries the latest attempt).
-- Append-only; kept apart from the hot task table.
CREATE TABLE {schema}.task_attempt (
  task_id      bigint      NOT NULL,
  lease_token  integer     NOT NULL,
  attempt      integer     NOT NULL,
  worker       text,
  started_at   timestamptz,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  -- failed | retried | lease_expired | cancelled | timed_out | interrupted | stale_rejected
  outcome      text        NOT NULL,
  error        jsonb,
  PRIMARY KEY (task_id, lease_token)
);

-- Recovery events (TASK_HEARTBEAT_TIMEOUT, …), operator actions and rejected stale results.
-- Append-only.
CREATE TABLE {schema}.task_event (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id     bigint,
  process_id  bigint,
  kind        text        NOT NULL,
  actor       text,
  data        jsonb,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_event_task_idx ON {schema}.task_event (task_id, id) WHERE task_id IS NOT NULL;

-- The delay before retry number `attempt + 1`. Equal jitter: half the delay is fixed, half is
-- random, which spreads a thundering herd of retries without ever retrying at once.
CREATE FUNCTION {schema}.retry_delay(kind text, initial_ms integer, max_ms integer, jitter boolean, attempt integer)
RETURNS interval LANGUAGE sql VOLATILE AS $$
  SELECT make_interval(secs => d * (CASE WHEN jitter THEN 0.5 + random() * 0.5 ELSE 1 END) / 1000.0)
  FROM (SELECT least(max_ms::float8, CASE kind
          WHEN 'constant' THEN initial_ms::float8
          WHEN 'linear' THEN initial_ms::float8 * greatest(attempt, 1)
          ELSE initial_ms::float8 * power(2::float8, least(greatest(attempt, 1) - 1, 60))
        END) AS d) AS delay
$$;
