-- Named queries on {schema}.schedule, its runs and its events. A tick is claimed by one
-- statement that moves next_run_at forward, guarded by the value the node read
-- (ScheduleClaimTick); the run task is inserted in the same transaction.
-- Definition parameters shared by ScheduleUpsertCode, ScheduleInsert and ScheduleReplace:
-- $1 name, $2 cron, $3 timezone, $4 topic, $5 payload, $6 tags, $7 checkin_margin_ms,
-- $8 max_runtime_ms, $9 overlap, $10 backfill, $11 max_runs, $12 max_consecutive_failures,
-- $13 enabled.

-- name: ScheduleUpsertCode
-- A code declaration ($14: its hash, $15: the first tick, $16: the scheduler's clock). An
-- existing row changes only when the declaration did: pauses and runtime updates survive
-- restarts. Its next run is kept unless the expression or time zone changed or it was disabled.
-- A declaration whose maxRuns is already reached stays ended.
WITH upserted AS (
  INSERT INTO {schema}.schedule AS s (name, cron, timezone, topic, payload, tags, checkin_margin_ms, max_runtime_ms,
      overlap, backfill, max_runs, max_consecutive_failures, enabled, origin, code_hash, next_run_at,
      failures_since, disabled_reason)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[], $7, $8, $9, $10, $11, $12, $13, 'code', $14,
          CASE WHEN $13 THEN $15::timestamptz END, $16, CASE WHEN NOT $13 THEN 'disabled in code' END)
  ON CONFLICT (name) DO UPDATE SET
      cron = EXCLUDED.cron, timezone = EXCLUDED.timezone, topic = EXCLUDED.topic, payload = EXCLUDED.payload,
      tags = EXCLUDED.tags, checkin_margin_ms = EXCLUDED.checkin_margin_ms, max_runtime_ms = EXCLUDED.max_runtime_ms,
      overlap = EXCLUDED.overlap, backfill = EXCLUDED.backfill, max_runs = EXCLUDED.max_runs,
      max_consecutive_failures = EXCLUDED.max_consecutive_failures, origin = 'code', code_hash = EXCLUDED.code_hash,
      enabled = EXCLUDED.enabled AND (EXCLUDED.max_runs IS NULL OR s.runs < EXCLUDED.max_runs),
      next_run_at = CASE
        WHEN NOT EXCLUDED.enabled OR (EXCLUDED.max_runs IS NOT NULL AND s.runs >= EXCLUDED.max_runs) THEN NULL
        WHEN s.enabled AND s.next_run_at IS NOT NULL AND s.cron = EXCLUDED.cron AND s.timezone = EXCLUDED.timezone THEN s.next_run_at
        ELSE $15::timestamptz END,
      disabled_reason = CASE
        WHEN NOT EXCLUDED.enabled THEN 'disabled in code'
        WHEN EXCLUDED.max_runs IS NOT NULL AND s.runs >= EXCLUDED.max_runs THEN format('ended after %s runs (maxRuns)', s.runs)
        END,
      consecutive_failures = 0, failures_since = EXCLUDED.failures_since, updated_at = now()
    WHERE s.code_hash IS DISTINCT FROM EXCLUDED.code_hash
  RETURNING s.*, (s.xmax = 0) AS inserted
), events AS (
  INSERT INTO {schema}.schedule_event (schedule, kind, actor, data)
  SELECT name, CASE WHEN inserted THEN 'CREATED' ELSE 'UPDATED' END, 'code',
         jsonb_build_object('cron', cron, 'timezone', timezone, 'nextRunAt', to_char(next_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    FROM upserted
)
SELECT * FROM upserted;

-- name: ScheduleInsert
-- A runtime creation ($14: first tick, $15: the scheduler's clock, $16: actor). Nothing comes
-- back when the name is taken.
WITH inserted AS (
  INSERT INTO {schema}.schedule (name, cron, timezone, topic, payload, tags, checkin_margin_ms, max_runtime_ms,
      overlap, backfill, max_runs, max_consecutive_failures, enabled, origin, next_run_at, failures_since, disabled_reason)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[], $7, $8, $9, $10, $11, $12, $13, 'api',
          CASE WHEN $13 THEN $14::timestamptz END, $15, CASE WHEN NOT $13 THEN 'created disabled' END)
  ON CONFLICT (name) DO NOTHING
  RETURNING *
), events AS (
  INSERT INTO {schema}.schedule_event (schedule, kind, actor, data)
  SELECT name, 'CREATED', $16, jsonb_build_object('cron', cron, 'timezone', timezone, 'nextRunAt', to_char(next_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) FROM inserted
)
SELECT * FROM inserted;

-- name: ScheduleLock
-- Runtime changes read and lock the row, decide, then write it with ScheduleReplace in the
-- same transaction: a concurrent claim either happened before or fails its guard after.
SELECT * FROM {schema}.schedule WHERE name = $1 FOR UPDATE;

-- name: ScheduleReplace
-- Writes a runtime change decided under ScheduleLock ($14 next_run_at, $15 disabled_reason,
-- $16: restart failure counting from this moment, or null; $17 actor, $18 event kind, $19 data).
WITH updated AS (
  UPDATE {schema}.schedule
     SET cron = $2, timezone = $3, topic = $4, payload = $5::jsonb, tags = $6::text[], checkin_margin_ms = $7,
         max_runtime_ms = $8, overlap = $9, backfill = $10, max_runs = $11, max_consecutive_failures = $12,
         enabled = $13, next_run_at = $14::timestamptz, disabled_reason = $15,
         failures_since = coalesce($16::timestamptz, failures_since),
         consecutive_failures = CASE WHEN $16::timestamptz IS NULL THEN consecutive_failures ELSE 0 END,
         updated_at = now()
   WHERE name = $1
  RETURNING *
), events AS (
  INSERT INTO {schema}.schedule_event (schedule, kind, actor, data) SELECT name, $18, $17, $19::jsonb FROM updated
)
SELECT * FROM updated;

-- name: ScheduleLockRuns
-- A deletion locks the schedule's run links before the schedule row, in the order
-- ScheduleSettleRuns takes them, so the two never deadlock.
SELECT 1 FROM {schema}.schedule_run WHERE schedule = $1 FOR UPDATE;

-- name: ScheduleDelete
-- Its runs' links and its events go with it (ON DELETE CASCADE); its tasks stay as history.
DELETE FROM {schema}.schedule WHERE name = $1 RETURNING name;

-- name: ScheduleCodeNames
SELECT name FROM {schema}.schedule WHERE origin = 'code' ORDER BY name;

-- name: ScheduleGet
SELECT * FROM {schema}.schedule WHERE name = $1;

-- name: ScheduleList
SELECT * FROM {schema}.schedule ORDER BY name;

-- name: ScheduleDue
-- Enabled schedules whose next tick is at or before the scheduler's clock ($1).
SELECT * FROM {schema}.schedule
 WHERE enabled AND next_run_at <= $1::timestamptz
 ORDER BY next_run_at
 LIMIT $2;

-- name: ScheduleClaimTick
-- The claim: moves the schedule past tick $2 to $3, only while next_run_at is still what this
-- node read and the schedule is enabled. Of any number of nodes evaluating one tick, one gets a
-- row back; the others get nothing and do nothing. $4 is the tick handled (null: ticks skipped).
-- An expression that fires no more ($3 null, e.g. a past year) ends the schedule.
UPDATE {schema}.schedule
   SET next_run_at = $3::timestamptz, last_tick_at = coalesce($4::timestamptz, last_tick_at),
       enabled = $3::timestamptz IS NOT NULL,
       disabled_reason = CASE WHEN $3::timestamptz IS NULL THEN 'the cron expression fires no more' ELSE disabled_reason END
 WHERE name = $1 AND next_run_at = $2::timestamptz AND enabled
RETURNING *;

-- name: ScheduleOpenRuns
-- The schedule's runs that have not finished (the overlap policy looks at them).
SELECT r.task_id, r.tick_at, t.state
  FROM {schema}.schedule_run r JOIN {schema}.task t ON t.id = r.task_id
 WHERE r.schedule = $1 AND r.open AND t.state IN ('pending', 'ready', 'running', 'waiting', 'suspended')
 ORDER BY r.tick_at;

-- name: SchedulePendingRuns
-- Runs that have not started (queued or held), locked so no worker claims them before they are
-- cancelled: a deleted schedule takes them with it.
SELECT t.id
  FROM {schema}.schedule_run r JOIN {schema}.task t ON t.id = r.task_id
 WHERE r.schedule = $1 AND r.open AND t.state IN ('pending', 'ready', 'suspended') AND t.attempt = 0
   FOR UPDATE OF t;

-- name: ScheduleRecordRun
-- Links the run task $3 to tick $2, counts it, and ends the schedule when maxRuns is reached.
WITH link AS (
  INSERT INTO {schema}.schedule_run (schedule, tick_at, task_id) VALUES ($1, $2, $3)
), counted AS (
  UPDATE {schema}.schedule
     SET runs = runs + 1, last_task_id = $3,
         enabled = enabled AND (max_runs IS NULL OR runs + 1 < max_runs),
         next_run_at = CASE WHEN max_runs IS NOT NULL AND runs + 1 >= max_runs THEN NULL ELSE next_run_at END,
         disabled_reason = CASE WHEN max_runs IS NOT NULL AND runs + 1 >= max_runs
                                THEN format('ended after %s runs (maxRuns)', runs + 1) ELSE disabled_reason END
   WHERE name = $1
  RETURNING name, runs, max_runs, enabled
), ended AS (
  INSERT INTO {schema}.schedule_event (schedule, kind, tick_at, task_id, data)
  SELECT name, 'MAX_RUNS_REACHED', $2, $3, jsonb_build_object('runs', runs)
    FROM counted WHERE max_runs IS NOT NULL AND runs >= max_runs
)
SELECT * FROM counted;

-- name: ScheduleSkipTick
-- Records tick $2 ($4: the same as ISO text, as other events' data spell times) skipped because
-- runs $3 (a JSON array of ids) are unfinished. Consecutive skips behind the same runs fold into
-- one event (first, last, count): a hung run behind an every-second schedule must not write an
-- event a second.
WITH prior AS (
  SELECT id FROM (SELECT id, kind, data FROM {schema}.schedule_event WHERE schedule = $1 ORDER BY id DESC LIMIT 1) AS latest
   WHERE kind = 'TICK_SKIPPED' AND data->'unfinished' = $3::jsonb
), bumped AS (
  UPDATE {schema}.schedule_event e
     SET data = e.data || jsonb_build_object('last', $4::text, 'count', (e.data->>'count')::integer + 1)
    FROM prior
   WHERE e.id = prior.id
  RETURNING e.id
)
INSERT INTO {schema}.schedule_event (schedule, kind, tick_at, data)
SELECT $1, 'TICK_SKIPPED', $2::timestamptz,
       jsonb_build_object('reason', 'overlap', 'unfinished', $3::jsonb, 'first', $4::text, 'last', $4::text, 'count', 1)
 WHERE NOT EXISTS (SELECT 1 FROM bumped);

-- name: ScheduleEventInsert
INSERT INTO {schema}.schedule_event (schedule, kind, tick_at, task_id, actor, data)
VALUES ($1, $2, $3::timestamptz, $4, $5, $6::jsonb);

-- name: ScheduleSettleRuns
-- Once per cron pass: closes the links of runs that finished and, for each schedule that had
-- one, counts the failed runs since its last completed one among its latest finished runs (by
-- tick; cancelled and expired runs neither count nor reset). Past max_consecutive_failures the
-- schedule is disabled, guarded by `enabled` so a concurrent pause keeps its own reason.
WITH settled AS (
  UPDATE {schema}.schedule_run r SET open = false
    FROM {schema}.task t
   WHERE r.open AND t.id = r.task_id AND t.state IN ('completed', 'failed', 'cancelled', 'expired')
  RETURNING r.schedule
), counted AS (
  SELECT s.name, s.max_consecutive_failures AS max, tail.n, tail.last_error,
         s.enabled AND s.max_consecutive_failures IS NOT NULL AND tail.n >= s.max_consecutive_failures AS trip
    FROM {schema}.schedule s
    JOIN (SELECT DISTINCT schedule FROM settled) d ON d.schedule = s.name
   CROSS JOIN LATERAL (
     SELECT count(*)::integer AS n, (array_agg(error ORDER BY tick_at DESC))[1] AS last_error
       FROM (SELECT tick_at, error, bool_or(state = 'completed') OVER (ORDER BY tick_at DESC) AS reset
               FROM (SELECT r.tick_at, t.state, t.error
                       FROM {schema}.schedule_run r JOIN {schema}.task t ON t.id = r.task_id
                      WHERE r.schedule = s.name AND r.tick_at > s.failures_since
                        AND t.state IN ('completed', 'failed')
                      ORDER BY r.tick_at DESC
                      LIMIT greatest(coalesce(s.max_consecutive_failures, 0), 100)) AS latest) AS flagged
      WHERE NOT reset
   ) AS tail
), changed AS (
  UPDATE {schema}.schedule s
     SET consecutive_failures = c.n,
         enabled = s.enabled AND NOT c.trip,
         next_run_at = CASE WHEN c.trip THEN NULL ELSE s.next_run_at END,
         disabled_reason = CASE WHEN c.trip
           THEN format('disabled after %s consecutive failed runs (maxConsecutiveFailures); last error: %s',
                       c.n, coalesce(c.last_error->>'message', 'unknown'))
           ELSE s.disabled_reason END
    FROM counted c
   WHERE s.name = c.name AND (NOT c.trip OR s.enabled)
  RETURNING s.name, s.consecutive_failures, s.disabled_reason, c.trip, c.last_error
), events AS (
  INSERT INTO {schema}.schedule_event (schedule, kind, data)
  SELECT name, 'DISABLED', jsonb_build_object('reason', 'maxConsecutiveFailures',
         'consecutiveFailures', consecutive_failures, 'lastError', last_error)
    FROM changed WHERE trip
)
SELECT name, trip AS disabled, consecutive_failures, disabled_reason FROM changed;

-- name: ScheduleRecentRuns
-- The latest $2 runs of each schedule in $1, newest first, with their task's state.
SELECT n.name AS schedule, r.tick_at, r.task_id, t.state, t.attempt, t.started_at, t.finished_at, t.error
  FROM unnest($1::text[]) AS n(name)
 CROSS JOIN LATERAL (
   SELECT * FROM {schema}.schedule_run WHERE schedule = n.name ORDER BY tick_at DESC LIMIT $2
 ) AS r
  LEFT JOIN {schema}.task t ON t.id = r.task_id
 ORDER BY n.name, r.tick_at DESC;

-- name: ScheduleEvents
SELECT * FROM {schema}.schedule_event WHERE schedule = $1 ORDER BY id DESC LIMIT $2;
