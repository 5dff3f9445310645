-- Version 4: cron schedules, the runs they created and what happened to their ticks.

-- One row per schedule. The maintenance leader claims a tick by moving next_run_at forward with
-- one statement guarded by the value it read (see ScheduleClaimTick), so a tick is claimed once
-- however many nodes evaluate it.
CREATE TABLE {schema}.schedule (
  name              text        PRIMARY KEY,
  cron              text        NOT NULL,
  timezone          text        NOT NULL DEFAULT 'UTC',
  topic             text        NOT NULL,
  payload           jsonb,
  -- Tags of the run tasks; null: the topic's own tags.
  tags              text[],
  checkin_margin_ms integer     NOT NULL,
  -- Becomes the run task's start_to_close_ms.
  max_runtime_ms    integer,
  overlap           text        NOT NULL DEFAULT 'skip',
  backfill          boolean     NOT NULL DEFAULT false,
  max_runs          bigint,
  max_consecutive_failures integer,
  enabled           boolean     NOT NULL DEFAULT true,
  -- `code`: declared with tl.schedule() and kept in step by syncSchedules; `api`: created at runtime.
  origin            text        NOT NULL,
  -- Hash of the code declaration last applied: a sync changes the row only when it differs, so
  -- runtime changes (pause, update) survive restarts until the declaration itself changes.
  code_hash         text,
  -- The next tick to evaluate; null while the schedule is disabled.
  next_run_at       timestamptz,
  last_tick_at      timestamptz,
  last_task_id      bigint,
  runs              bigint      NOT NULL DEFAULT 0,
  consecutive_failures integer  NOT NULL DEFAULT 0,
  -- Runs of ticks up to this moment no longer count toward maxConsecutiveFailures (resume, change).
  failures_since    timestamptz NOT NULL DEFAULT '-infinity',
  disabled_reason   text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedule_overlap_check CHECK (overlap IN ('skip', 'allow', 'cancel-previous')),
  CONSTRAINT schedule_origin_check CHECK (origin IN ('code', 'api'))
);

-- The cron pass reads only enabled schedules that are due.
CREATE INDEX schedule_due_idx ON {schema}.schedule (next_run_at) WHERE enabled;

-- The task each tick created. The primary key is a second guarantee, besides the run task's
-- idempotency key, that a tick never has two runs. `open` stays true until the cron pass has
-- seen the run finish, so finding a schedule's unfinished runs never walks its whole history.
CREATE TABLE {schema}.schedule_run (
  schedule  text        NOT NULL REFERENCES {schema}.schedule (name) ON DELETE CASCADE,
  tick_at   timestamptz NOT NULL,
  task_id   bigint      NOT NULL,
  open      boolean     NOT NULL DEFAULT true,
  PRIMARY KEY (schedule, tick_at)
);
CREATE INDEX schedule_run_open_idx ON {schema}.schedule_run (schedule) WHERE open;

-- What happened to a schedule that is not a task: missed and skipped ticks, runs cancelled by
-- a newer tick, automatic disabling, and operator actions. Append-only.
CREATE TABLE {schema}.schedule_event (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  schedule  text        NOT NULL REFERENCES {schema}.schedule (name) ON DELETE CASCADE,
  kind      text        NOT NULL,
  tick_at   timestamptz,
  task_id   bigint,
  actor     text,
  data      jsonb,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedule_event_schedule_idx ON {schema}.schedule_event (schedule, id);
