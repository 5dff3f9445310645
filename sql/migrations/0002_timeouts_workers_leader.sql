-- Version 2: deadlines for the timeouts, the workers registry and maintenance leadership.

-- TASK_ENQUEUE_TO_END_TIMEOUT: the moment all attempts together must have ended
-- (first due time + schedule_to_close_ms), fixed at enqueue.
ALTER TABLE {schema}.task ADD COLUMN deadline_at timestamptz;

-- Maintenance finds tasks past their deadline, or waiting to start for too long, through small
-- partial indexes: only tasks that have such a timeout are in them.
CREATE INDEX task_deadline_idx ON {schema}.task (deadline_at)
  WHERE deadline_at IS NOT NULL AND state IN ('pending', 'ready', 'running', 'waiting', 'suspended');
CREATE INDEX task_start_deadline_idx ON {schema}.task (run_at)
  WHERE state = 'ready' AND schedule_to_start_ms IS NOT NULL;

-- Every worker that runs or ran recently. A worker renews last_seen_at with its leases; the
-- maintenance leader marks one that stopped doing so as lost.
CREATE TABLE {schema}.worker (
  id            text        PRIMARY KEY,
  host          text        NOT NULL,
  pid           integer     NOT NULL,
  topics        text[]      NOT NULL,
  tags          text[]      NOT NULL DEFAULT '{}',
  concurrency   integer     NOT NULL,
  state         text        NOT NULL DEFAULT 'running',
  running       integer     NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  stopped_at    timestamptz,
  CONSTRAINT worker_state_check CHECK (state IN ('running', 'stopped', 'lost'))
);

-- One row per leadership (only `maintenance` so far). A node is leader while it holds the row
-- and renews expires_at; a dead leader's row expires and the next node takes it.
CREATE TABLE {schema}.leader (
  name        text        PRIMARY KEY,
  node        text        NOT NULL,
  elected_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
