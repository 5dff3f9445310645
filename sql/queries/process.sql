-- Named queries on {schema}.process and the steps of processes. How steps advance when one
-- finishes lives in the trigger {schema}.steps_finished (migration 0003), so that every path that
-- finishes a step advances its process in the same statement.

-- name: ProcessStartMany
-- Idempotent start of a batch of processes of one definition, with their steps and edges, in one
-- call (start_processes, migration 0013): the new processes (created, in input order) and those
-- whose key existed with the same definition (not created). A key that exists with another
-- definition fails the call with SQLSTATE TL409 and writes nothing.
SELECT o_id AS id, o_key AS key, o_created AS created
  FROM {schema}.start_processes($1::text[], $2::jsonb[], $3::text[], $4::text, $5::jsonb, $6::integer,
       $7::text[], $8::text[], $9::jsonb[], $10::integer[], $11::integer[], $12::text[], $13::integer[], $14::integer[],
       $15::boolean[], $16::text[], $17::integer[], $18::integer[], $19::integer[], $20::integer[], $21::integer[],
       $22::text[], $23::boolean[], $24::text[], $25::text[], $26::jsonb);

-- name: ProcessGetByKeys
SELECT * FROM {schema}.process WHERE key = ANY($1::text[]);

-- name: ProcessGetByKey
SELECT * FROM {schema}.process WHERE key = $1;

-- name: ProcessGet
SELECT * FROM {schema}.process WHERE id = $1;

-- name: ProcessSteps
SELECT * FROM {schema}.task WHERE process_id = $1 ORDER BY id;

-- name: ProcessEdges
SELECT e.parent_id, e.child_id
  FROM {schema}.task_edge e JOIN {schema}.task t ON t.id = e.child_id
 WHERE t.process_id = $1;

-- name: ProcessStepEvents
SELECT * FROM {schema}.task_event
 WHERE task_id IN (SELECT id FROM {schema}.task WHERE process_id = $1)
 ORDER BY id;

-- name: ProcessList
SELECT * FROM {schema}.process
 WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR name = $2)
   AND ($3::bigint IS NULL OR id < $3)
 ORDER BY id DESC
 LIMIT $4;

-- name: ProcessSetState
-- Operator transitions of a process row: cancel, suspend and resume are each guarded by the
-- states they may leave ($3).
UPDATE {schema}.process
   SET state = $2, finished_at = CASE WHEN $2 IN ('cancelled', 'timed_out') THEN now() ELSE finished_at END
 WHERE id = $1 AND state = ANY($3::text[])
RETURNING *;

-- name: ProcessCancelSteps
-- Cancels every unfinished step (running ones are aborted on their node) with a cause.
SELECT {schema}.cancel_steps($1::bigint[], $2, $3);

-- name: ProcessSuspendSteps
WITH suspended AS (
  UPDATE {schema}.task
     SET state = 'suspended', resume_state = state
   WHERE process_id = $1 AND state IN ('pending', 'ready', 'waiting')
  RETURNING id, resume_state
)
INSERT INTO {schema}.task_event (task_id, kind, actor, data)
SELECT id, 'SUSPENDED', $2, jsonb_build_object('from', resume_state, 'cause', 'process suspended') FROM suspended;

-- name: ProcessResumeSteps
WITH resumed AS (
  UPDATE {schema}.task
     SET state = coalesce(resume_state, 'ready'), resume_state = NULL
   WHERE process_id = $1 AND state = 'suspended'
  RETURNING id, topic, state
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, 'RESUMED', $2, jsonb_build_object('to', state, 'cause', 'process resumed') FROM resumed
)
SELECT count(pg_notify('{schema}_ready', topic))::integer AS woken
  FROM (SELECT DISTINCT topic FROM resumed WHERE state = 'ready') AS r;

-- name: ProcessCompleteIfDone
-- After a resume: a process whose steps all finished while it was suspended completes now.
UPDATE {schema}.process p
   SET state = 'completed', finished_at = now()
 WHERE p.id = $1 AND p.state = 'running'
   AND NOT EXISTS (SELECT 1 FROM {schema}.task t
                    WHERE t.process_id = p.id AND t.state NOT IN ('completed', 'failed', 'cancelled', 'expired'))
RETURNING id;

-- name: ProcessReopen
-- Resumes a finished process after an operator retried one of its steps: the process runs
-- again, and every step cancelled because of the failure (or skipped below it) waits again for
-- its parents, recounted from their real states.
WITH reopened AS (
  UPDATE {schema}.process
     SET state = 'running', finished_at = NULL, error = NULL,
         -- A process that timed out gets its full time again, or it would time out at once.
         deadline_at = CASE WHEN deadline_at IS NULL THEN NULL ELSE now() + (deadline_at - created_at) END
   WHERE id = $1 AND state IN ('failed', 'completed', 'cancelled', 'timed_out')
  RETURNING id
), parents AS (
  SELECT c.id,
         count(par.id) FILTER (WHERE NOT (par.state = 'completed'
           OR (par.state IN ('failed', 'expired') AND coalesce(par.on_failure, 'fail-process') = 'continue'))) AS open
    FROM {schema}.task c
    LEFT JOIN {schema}.task_edge e ON e.child_id = c.id
    LEFT JOIN {schema}.task par ON par.id = e.parent_id
   WHERE c.process_id = $1 AND c.state = 'cancelled'
     AND c.error->>'code' IN ('PROCESS_FAILED', 'SKIPPED', 'PROCESS_CANCELLED', 'PROCESS_START_TO_END_TIMEOUT')
   GROUP BY c.id
), reset AS (
  UPDATE {schema}.task t
     SET state = CASE WHEN p.open = 0 THEN 'ready' ELSE 'pending' END,
         pending_parents = p.open, run_at = now(), finished_at = NULL, error = NULL,
         max_attempts = greatest(t.max_attempts, t.attempt + 1),
         deadline_at = now() + t.schedule_to_close_ms * interval '1 millisecond'
    FROM parents p
   WHERE t.id = p.id AND t.state = 'cancelled' AND EXISTS (SELECT 1 FROM reopened)
  RETURNING t.id, t.topic, t.state
), edges AS (
  -- The reset steps wait again for the parents not done: their edges are unreleased again.
  UPDATE {schema}.task_edge e
     SET released = (par.state = 'completed' OR (par.state IN ('failed', 'expired') AND coalesce(par.on_failure, 'fail-process') = 'continue'))
    FROM {schema}.task par
   WHERE par.id = e.parent_id AND e.child_id IN (SELECT id FROM reset)
)
SELECT (SELECT count(*) FROM reopened)::integer AS reopened,
       count(pg_notify('{schema}_ready', topic))::integer AS woken
  FROM (SELECT DISTINCT topic FROM reset WHERE state = 'ready') AS r;

-- name: ProcessExpireDeadlines
-- PROCESS_START_TO_END_TIMEOUT: a running process past its deadline is timed out; its
-- unfinished steps are cancelled by ProcessCancelSteps in the same transaction.
WITH due AS (
  SELECT id FROM {schema}.process
   WHERE state = 'running' AND deadline_at < now()
   ORDER BY deadline_at
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), timed_out AS (
  UPDATE {schema}.process p
     SET state = 'timed_out', finished_at = now(),
         error = jsonb_build_object('message', 'the process did not finish before its deadline (deadlineMs)',
                                    'code', 'PROCESS_START_TO_END_TIMEOUT')
    FROM due WHERE p.id = due.id AND p.state = 'running'
  RETURNING p.id, p.deadline_at
), events AS (
  INSERT INTO {schema}.task_event (process_id, kind, data)
  SELECT id, 'PROCESS_START_TO_END_TIMEOUT', jsonb_build_object('deadline', deadline_at) FROM timed_out
)
SELECT id FROM timed_out;

-- name: ProcessEvent
INSERT INTO {schema}.task_event (process_id, kind, actor, data) VALUES ($1, $2, $3, $4::jsonb);

-- name: ProcessEvents
SELECT * FROM {schema}.task_event WHERE process_id = $1 ORDER BY id;

-- name: TaskWaitMany
-- A handler returned ctx.waitForEvent(name): the step waits (lease released) until sendEvent
-- or until $4 ms have passed. Waiting does not use up a retry: max_attempts grows by one.
WITH waiting AS (
  UPDATE {schema}.task t
     SET state = 'waiting', wait_event = i.name,
         wait_until = now() + i.timeout_ms * interval '1 millisecond',
         max_attempts = t.max_attempts + 1, lease_expires_at = NULL
    FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::integer[]) AS i(id, token, name, timeout_ms)
   WHERE t.id = i.id AND t.lease_token = i.token AND t.state = 'running'
  RETURNING t.id, t.wait_event, t.wait_until
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, data)
  SELECT id, 'WAITING', jsonb_build_object('event', wait_event, 'until', wait_until) FROM waiting
)
SELECT id FROM waiting;

-- name: TaskSendEvent
-- Wakes the task $1 — or the steps of process $1 — waiting for event $2, with its data.
WITH woken AS (
  UPDATE {schema}.task
     SET state = 'ready', run_at = now(), wait_event = NULL, wait_until = NULL,
         event = jsonb_build_object('name', $2::text, 'data', $3::jsonb)
   WHERE (id = $1 OR process_id = $1) AND state = 'waiting' AND wait_event = $2
  RETURNING id, topic
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, 'EVENT_RECEIVED', $4, jsonb_build_object('event', $2::text) FROM woken
), notified AS (
  SELECT pg_notify('{schema}_ready', topic) FROM (SELECT DISTINCT topic FROM woken) AS t
)
SELECT id, (SELECT count(*) FROM notified) AS notified FROM woken;

-- name: TaskWaiting
-- What task $1, or the steps of process $1, wait for (to explain a rejected event).
SELECT id, state, wait_event FROM {schema}.task WHERE (id = $1 OR process_id = $1) AND state = 'waiting';

-- name: TaskExpireWaits
-- A wait that timed out fails its step (no retry: waiting again would wait for nothing); the
-- step's failure policy then decides for the process.
WITH due AS (
  SELECT id FROM {schema}.task
   WHERE state = 'waiting' AND wait_until < now()
   ORDER BY wait_until
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), failed AS (
  UPDATE {schema}.task t
     SET state = 'failed', finished_at = now(),
         error = jsonb_build_object('message', 'no event "' || t.wait_event || '" arrived in time', 'code', 'EVENT_TIMEOUT', 'attempt', t.attempt)
    FROM due WHERE t.id = due.id AND t.state = 'waiting'
  RETURNING t.id, t.wait_event
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, data)
  SELECT id, 'EVENT_TIMEOUT', jsonb_build_object('event', wait_event) FROM failed
)
SELECT id FROM failed;

-- name: StepParents
-- The parents' outcomes of claimed steps, read again after a claim whose own answer was older
-- than the row it claimed (see Worker: claim_ids picks rows in a snapshot of its own).
SELECT e.child_id AS id,
       jsonb_object_agg(pt.step, jsonb_build_object('state', pt.state, 'result', pt.result, 'error', pt.error)) AS parents
  FROM {schema}.task_edge e JOIN {schema}.task pt ON pt.id = e.parent_id
 WHERE e.child_id = ANY($1::bigint[])
 GROUP BY e.child_id;
