-- Named queries on {schema}.task and its history. Every state transition is one statement
-- guarded by the current state (`AND state = …`), so two nodes can never both win a transition.

-- name: TaskInsertMany
-- One statement for any number of tasks (enqueue and enqueueMany). Rows whose idempotency key
-- already exists are not inserted; the caller reads those tasks with TaskGetByKeys. Only the new
-- rows' id, key and due time come back (the caller has the rest), with the statement's now():
-- returning every column cost more than the insert itself. One NOTIFY per topic per statement
-- wakes idle workers on every node (PostgreSQL folds duplicates).
WITH input AS (
  SELECT * FROM unnest(
    $1::text[], $2::jsonb[], $3::integer[], $4::timestamptz[], $5::integer[], $6::integer[],
    $7::text[], $8::integer[], $9::integer[], $10::boolean[], $11::text[], $12::text[],
    $13::bigint[], $14::text[], $15::integer[], $16::integer[], $17::integer[], $18::integer[],
    $19::text[], $20::integer[], $21::text[], $22::boolean[], $23::jsonb[]
  ) WITH ORDINALITY AS i(topic, payload, priority, run_at, delay_ms, max_attempts,
      backoff, backoff_initial_ms, backoff_max_ms, backoff_jitter, tags, key,
      process_id, step, start_to_close_ms, heartbeat_timeout_ms, schedule_to_start_ms, schedule_to_close_ms,
      state, pending_parents, on_failure, is_output, trace, n)
), inserted AS (
  INSERT INTO {schema}.task (topic, state, payload, priority, run_at, max_attempts,
      backoff, backoff_initial_ms, backoff_max_ms, backoff_jitter, tags, key, process_id, step,
      start_to_close_ms, heartbeat_timeout_ms, schedule_to_start_ms, schedule_to_close_ms, deadline_at,
      pending_parents, on_failure, is_output, trace)
  SELECT topic, state, payload, priority, due, max_attempts,
         backoff, backoff_initial_ms, backoff_max_ms, backoff_jitter, tags::text[], key, process_id, step,
         start_to_close_ms, heartbeat_timeout_ms, schedule_to_start_ms, schedule_to_close_ms,
         due + schedule_to_close_ms * interval '1 millisecond',
         coalesce(pending_parents, 0), on_failure, coalesce(is_output, false), trace
    FROM (SELECT *, coalesce(run_at, now() + coalesce(delay_ms, 0) * interval '1 millisecond') AS due FROM input) AS i
   ORDER BY n
  ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING
  RETURNING id, key, run_at, topic, state
), woken AS (
  SELECT pg_notify('{schema}_ready', topic)
    FROM (SELECT DISTINCT topic FROM inserted WHERE state = 'ready' AND run_at <= now()) AS due
)
SELECT id, key, run_at, now() AS now, (SELECT count(*) FROM woken) AS woken FROM inserted;

-- name: TaskInsertUniform
-- The common batch: plain tasks without keys whose options (after each topic's defaults) are all
-- the same, so only topic and payload vary per row. Sends the topics and one JSON array of the
-- payloads instead of 23 arrays, and answers one row (the new ids in input order as one text, and
-- the statement's now()) instead of a row per task: at 1,000 tasks a call this is about half the
-- time of TaskInsertMany. enqueue.ts picks it.
-- The payloads travel as one JSON document rather than a jsonb[]: the driver then escapes no
-- element and the server parses one value (1,000 payloads: about 2 ms less per call, measured).
-- The ids come back as text for the same reason: splitting it costs a fraction of parsing a
-- bigint[].
WITH d AS (
  SELECT coalesce($3::timestamptz, now() + coalesce($4::integer, 0) * interval '1 millisecond') AS due
), inserted AS (
  INSERT INTO {schema}.task (topic, state, payload, priority, run_at, max_attempts,
      backoff, backoff_initial_ms, backoff_max_ms, backoff_jitter, tags,
      start_to_close_ms, heartbeat_timeout_ms, schedule_to_start_ms, schedule_to_close_ms, deadline_at, trace)
  SELECT i.topic, 'ready', i.payload, $5::integer, d.due, $6::integer,
         $7::text, $8::integer, $9::integer, $10::boolean, $11::text[],
         $12::integer, $13::integer, $14::integer, $15::integer, d.due + $15::integer * interval '1 millisecond', $16::jsonb
    FROM d, ROWS FROM (unnest($1::text[]), jsonb_array_elements($2::jsonb)) WITH ORDINALITY AS i(topic, payload, n)
   ORDER BY i.n
  RETURNING id, topic
), woken AS (
  SELECT pg_notify('{schema}_ready', topic)
    FROM (SELECT DISTINCT topic FROM inserted) AS t
   WHERE (SELECT due FROM d) <= now()
)
-- Identity values grow in insertion order, which ORDER BY n made the input order.
SELECT array_to_string(array_agg(id ORDER BY id), ',') AS ids, now() AS now, (SELECT count(*) FROM woken) AS woken FROM inserted;

-- name: TaskInsertOne
-- One task (enqueue), with handoff: when it is due now, $18 is true and a worker of its topic
-- (and tags) has an open offer (migration 0012), the task is handed to that worker here:
-- inserted `running` as its first attempt, leased to the worker, one slot of the offer taken, and
-- the worker's NOTIFY carries the row, so its handler starts without a claim statement. Else it
-- is inserted `ready` (NOTIFY <schema>_ready when due), as TaskInsertMany would. No row: the key
-- exists. $18 is false inside a caller's transaction, which would hold the worker's row until it
-- ends. insert_task (migration 0012) is the PL/pgSQL that does it, planned once per session.
SELECT o_id AS id, o_key AS key, o_run_at AS run_at, o_now AS now, o_state AS state, o_lease_owner AS lease_owner
  FROM {schema}.insert_task($1::text, $2::jsonb, $3::integer, $4::timestamptz, $5::integer, $6::integer,
       $7::text, $8::integer, $9::integer, $10::boolean, $11::text[], $12::text, $13::integer, $14::integer,
       $15::integer, $16::integer, $17::jsonb, $18::boolean);

-- name: TaskHandedOff
-- The claim answer of a task handed to worker $2 whose row did not fit in the notification.
SELECT t.id, t.topic, t.payload, t.priority, t.attempt, t.max_attempts, t.tags, t.key,
       t.process_id, t.step, t.lease_token,
       (extract(epoch FROM t.created_at) * 1000)::float8 AS created_ms,
       t.start_to_close_ms, t.heartbeat_timeout_ms,
       (extract(epoch FROM t.deadline_at) * 1000)::float8 AS deadline_ms, t.event, t.trace
  FROM {schema}.task t
 WHERE t.id = $1 AND t.state = 'running' AND t.lease_owner = $2 AND t.lease_token = 1;

-- name: TaskReleaseUnreceived
-- Hands back what worker $1 holds in the database but not in memory ($2: the ids it knows):
-- tasks handed off to it whose notification was lost with its LISTEN connection, or claimed by
-- a statement whose answer never reached it. Ready again at once; the attempt was never started
-- and does not count. The worker runs this only while no claim of its own is in flight.
WITH released AS (
  UPDATE {schema}.task t
     SET state = 'ready', attempt = t.attempt - 1, run_at = now(), lease_expires_at = NULL
   WHERE t.state = 'running' AND t.lease_owner = $1 AND NOT (t.id = ANY($2::bigint[]))
  RETURNING t.id, t.topic
), woken AS (
  SELECT pg_notify('{schema}_ready', topic) FROM (SELECT DISTINCT topic FROM released) AS t
)
SELECT id, (SELECT count(*) FROM woken) AS woken FROM released;

-- name: TaskGetByKeys
-- The tasks of keys that TaskInsertMany did not insert because they exist.
SELECT * FROM {schema}.task WHERE key = ANY($1::text[]);

-- name: TaskClaim
-- Claims up to $3 runnable tasks for worker $4 in one statement. SKIP LOCKED lets concurrent
-- claimers pass each other instead of queueing on the same rows; the partial index
-- task_claim_idx serves the ORDER BY, so the scan stops after $3 rows. Each claim increments
-- lease_token: the fencing token every later write of this attempt must present.
-- A worker without tags ($2 = '{}') takes only untagged tasks.
WITH picked AS (
  -- claim_ids (migrations 0008, 0011) walks task_claim_idx in claim order whatever the statistics say.
  SELECT id FROM {schema}.claim_ids($1::text[], $2::text[], $3::integer, $6::timestamptz) AS id
)
UPDATE {schema}.task t
   SET state = 'running',
       attempt = t.attempt + 1,
       lease_token = t.lease_token + 1,
       lease_owner = $4,
       -- A topic with a heartbeat timeout gets a lease only the handler's heartbeats extend.
       lease_expires_at = now() + coalesce(t.heartbeat_timeout_ms, $5::integer) * interval '1 millisecond',
       attempted_at = now(),
       heartbeat_at = now(),
       started_at = coalesce(t.started_at, now()),
       progress = NULL
  FROM picked
 WHERE t.id = picked.id
-- Ids as text: node-postgres answers a bigint as text anyway, and TaskClaimJson's JSON keeps
-- them exact past 2^53.
-- Untagged tasks answer null tags: the driver parses even an empty array literal with an array
-- parser of its own (about 280 bytes of garbage per task in a draining worker's allocation profile).
RETURNING t.id::text AS id, t.topic, t.payload, t.priority, t.attempt, t.max_attempts, nullif(t.tags, '{}') AS tags, t.key,
          t.process_id::text AS process_id, t.step, t.lease_token,
          -- Times as epoch milliseconds: a number parses in a fraction of a timestamp's text
          -- (measured: timestamp parsing was 3% of a draining worker's CPU).
          (extract(epoch FROM t.created_at) * 1000)::float8 AS created_ms,
          t.start_to_close_ms, t.heartbeat_timeout_ms,
          (extract(epoch FROM t.deadline_at) * 1000)::float8 AS deadline_ms, t.event, t.trace,
          -- A step's handler sees the process input and its parents' outcomes. CASE keeps the
          -- subqueries off plain tasks.
          CASE WHEN t.process_id IS NULL THEN NULL
               ELSE (SELECT p.input FROM {schema}.process p WHERE p.id = t.process_id) END AS process_input,
          CASE WHEN t.process_id IS NULL THEN NULL
               ELSE (SELECT jsonb_object_agg(pt.step, jsonb_build_object('state', pt.state, 'result', pt.result, 'error', pt.error))
                       FROM {schema}.task_edge e JOIN {schema}.task pt ON pt.id = e.parent_id
                      WHERE e.child_id = t.id) END AS parents;

-- name: TaskClaimJson
-- TaskClaim, each claimed row answered as one JSON text, for PGlite. PGlite's driver parses an
-- answer in JavaScript, field by field, on the thread that also runs the database and the worker:
-- one field per row instead of nineteen took a claim of 1,000 from 51 to 43 ms and PGlite's drain
-- from 9.2–9.6k to 10.8–12.2k tasks/s (alternating runs). One text per row, not one for the
-- batch: a batch of large payloads could pass a string's size limit. On PostgreSQL the server's
-- JSON building costs more than node-postgres saves, so TaskClaim stays there.
WITH claimed AS ({query:TaskClaim})
SELECT to_json(claimed)::text AS j FROM claimed;

-- name: TaskCompleteMany
-- Completes a batch of attempts. Only rows still running under the presented token change;
-- the ids that come back were accepted, any other was stale (the caller records it).
-- complete_tasks (migration 0011) is the UPDATE with its plan pinned to primary-key probes.
-- The accepted ids come back as one comma-separated text: on PGlite, whose driver parses every
-- row in JavaScript, 1,000 rows of one id cost 3 ms more per batch (26.0 against 22.8 ms).
SELECT coalesce(string_agg(id::text, ','), '') AS ids FROM {schema}.complete_tasks($1::bigint[], $2::integer[], $3::jsonb[]) AS id;

-- name: TaskFailMany
-- Fails a batch of attempts: back to `ready` after the task's backoff while attempts remain, the
-- error is retryable and the retry would start before the task's deadline; else `failed`. The
-- ended attempt is archived in task_attempt; $5 names a recovery event to record (or null);
-- $6, when set, is the delay the failure asked for (a 429/503 answer's Retry-After) instead of
-- the backoff.
WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::integer[], $3::jsonb[], $4::boolean[], $5::text[], $6::integer[])
    AS i(id, token, error, retryable, event, retry_after_ms)
), decided AS (
  SELECT t.id, i.token, i.error, i.event,
         now() + coalesce(i.retry_after_ms * interval '1 millisecond',
                          {schema}.retry_delay(t.backoff, t.backoff_initial_ms, t.backoff_max_ms, t.backoff_jitter, t.attempt)) AS retry_at,
         i.retryable AND t.attempt < t.max_attempts AS may_retry, t.deadline_at
    FROM {schema}.task t JOIN input i ON t.id = i.id
), failed AS (
  UPDATE {schema}.task t
     SET state = CASE WHEN d.may_retry AND (d.deadline_at IS NULL OR d.retry_at < d.deadline_at) THEN 'ready' ELSE 'failed' END,
         run_at = CASE WHEN d.may_retry AND (d.deadline_at IS NULL OR d.retry_at < d.deadline_at) THEN d.retry_at ELSE t.run_at END,
         finished_at = CASE WHEN d.may_retry AND (d.deadline_at IS NULL OR d.retry_at < d.deadline_at) THEN NULL ELSE now() END,
         error = d.error,
         lease_expires_at = NULL
    FROM decided d
   WHERE t.id = d.id AND t.lease_token = d.token AND t.state = 'running'
  RETURNING t.id, t.state, t.run_at, t.attempt, t.lease_token, t.lease_owner, t.attempted_at, t.error, d.event
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome, error)
  SELECT id, lease_token, attempt, lease_owner, attempted_at,
         CASE WHEN event IS NOT NULL THEN 'timed_out' WHEN state = 'failed' THEN 'failed' ELSE 'retried' END, error
    FROM failed
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, event, lease_owner, jsonb_build_object('attempt', attempt) FROM failed WHERE event IS NOT NULL
)
SELECT id, state, run_at FROM failed;

-- name: TaskReleaseMany
-- Hands interrupted attempts back (graceful shutdown of a resumable topic): `ready` at once,
-- and the attempt does not count.
WITH released AS (
  UPDATE {schema}.task t
     SET state = 'ready', attempt = t.attempt - 1, run_at = now(), lease_expires_at = NULL
    FROM unnest($1::bigint[], $2::integer[]) AS i(id, token)
   WHERE t.id = i.id AND t.lease_token = i.token AND t.state = 'running'
  RETURNING t.id, t.topic, t.lease_token, t.attempt, t.lease_owner, t.attempted_at
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome)
  SELECT id, lease_token, attempt + 1, lease_owner, attempted_at, 'interrupted' FROM released
), woken AS (
  SELECT pg_notify('{schema}_ready', topic) FROM (SELECT DISTINCT topic FROM released) AS t
)
SELECT id, (SELECT count(*) FROM woken) AS woken FROM released;

-- name: TaskExtendLeases
-- The worker's liveness: one statement renews the leases of every attempt it runs. Ids missing
-- from the answer were lost (cancelled, completed by an operator, rescued after a freeze).
UPDATE {schema}.task t
   SET lease_expires_at = now() + $3::integer * interval '1 millisecond'
  FROM unnest($1::bigint[], $2::integer[]) AS i(id, token)
 WHERE t.id = i.id AND t.lease_token = i.token AND t.state = 'running'
RETURNING t.id;

-- name: TaskHeartbeat
-- A handler's own heartbeat: proves progress (not just liveness), stores it, extends the lease.
UPDATE {schema}.task
   SET heartbeat_at = now(),
       progress = coalesce($3::jsonb, progress),
       lease_expires_at = now() + coalesce(heartbeat_timeout_ms, $4::integer) * interval '1 millisecond'
 WHERE id = $1 AND lease_token = $2 AND state = 'running'
RETURNING id;

-- name: TaskRescueExpired
-- Ends attempts whose lease expired (the worker crashed, froze or lost its connection): retried
-- while attempts remain, else failed; recorded as TASK_HEARTBEAT_TIMEOUT. The lease check is
-- repeated in the UPDATE so a lease renewed between the scan and the lock is respected.
WITH expired AS (
  SELECT id FROM {schema}.task
   WHERE state = 'running' AND lease_expires_at < now()
   ORDER BY lease_expires_at
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), rescued AS (
  UPDATE {schema}.task t
     SET state = CASE WHEN t.attempt < t.max_attempts THEN 'ready' ELSE 'failed' END,
         run_at = CASE WHEN t.attempt < t.max_attempts
                       THEN now() + {schema}.retry_delay(t.backoff, t.backoff_initial_ms, t.backoff_max_ms, t.backoff_jitter, t.attempt)
                       ELSE t.run_at END,
         finished_at = CASE WHEN t.attempt < t.max_attempts THEN NULL ELSE now() END,
         error = jsonb_build_object('message', 'the lease expired: the worker crashed, froze or lost its database connection',
                                    'code', 'LEASE_EXPIRED', 'attempt', t.attempt),
         lease_expires_at = NULL
    FROM expired
   WHERE t.id = expired.id AND t.state = 'running' AND t.lease_expires_at < now()
  RETURNING t.*
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome, error)
  SELECT id, lease_token, attempt, lease_owner, attempted_at, 'lease_expired', error FROM rescued
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, data)
  SELECT id, 'TASK_HEARTBEAT_TIMEOUT',
         jsonb_build_object('worker', lease_owner, 'attempt', attempt,
                            'cause', CASE WHEN heartbeat_timeout_ms IS NULL THEN 'worker lease expired' ELSE 'no heartbeat from the handler' END)
    FROM rescued
)
SELECT * FROM rescued;

-- name: TaskRecordStale
-- Records results (and heartbeats) that arrived with a stale lease token; the task itself is
-- not touched.
INSERT INTO {schema}.task_event (task_id, kind, actor, data)
SELECT id, 'STALE_RESULT_REJECTED', $3, jsonb_build_object('leaseToken', token, 'outcome', $4::text)
  FROM unnest($1::bigint[], $2::integer[]) AS i(id, token);

-- name: TaskGet
SELECT * FROM {schema}.task WHERE id = $1;

-- name: TaskList
-- Newest first, keyset-paginated on id ($6: the last id of the previous page, or the largest
-- bigint for the first page), so a page costs the same on page 1 and page 10,000. No count(*).
-- A topic filter walks the primary key (no topic index: see migration 0010). Searches are in task-search.sql.
SELECT * FROM {schema}.task
 WHERE ($1::text IS NULL OR state = $1)
   AND ($2::text IS NULL OR topic = $2)
   AND ($3::text IS NULL OR $3 = ANY(tags))
   AND ($4::timestamptz IS NULL OR created_at >= $4)
   AND ($5::timestamptz IS NULL OR created_at < $5)
   AND id < $6
 ORDER BY id DESC
 LIMIT $7;

-- name: TaskAttempts
SELECT * FROM {schema}.task_attempt WHERE task_id = $1 ORDER BY lease_token;

-- name: TaskEvents
SELECT * FROM {schema}.task_event WHERE task_id = $1 ORDER BY id;

-- name: TaskCancel
-- Cancels a task that has not finished. A running one ends at once in the database (its late
-- result will be stale) and NOTIFY tells the node running it to abort the handler's signal.
WITH prior AS (
  SELECT id, state FROM {schema}.task WHERE id = $1 FOR UPDATE
), cancelled AS (
  UPDATE {schema}.task t
     SET state = 'cancelled', finished_at = now(), lease_expires_at = NULL
    FROM prior
   WHERE t.id = prior.id AND prior.state IN ('pending', 'ready', 'running', 'waiting', 'suspended')
  RETURNING t.*, prior.state AS prior_state
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome)
  SELECT id, lease_token, attempt, lease_owner, attempted_at, 'cancelled' FROM cancelled WHERE prior_state = 'running'
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, 'CANCELLED', $2, jsonb_build_object('from', prior_state) FROM cancelled
), aborted AS (
  SELECT pg_notify('{schema}_abort', id::text) FROM cancelled WHERE prior_state = 'running'
)
SELECT *, (SELECT count(*) FROM aborted) AS aborted FROM cancelled;

-- name: TaskRetry
-- Operator retry: a failed, cancelled or expired task runs once more (one extra attempt).
WITH retried AS (
  UPDATE {schema}.task
     SET state = 'ready', run_at = now(), finished_at = NULL,
         max_attempts = greatest(max_attempts, attempt + 1),
         -- A new chance gets a new deadline, or the claim would skip it and maintenance fail it.
         deadline_at = now() + schedule_to_close_ms * interval '1 millisecond'
   WHERE id = $1 AND state IN ('failed', 'cancelled', 'expired')
  RETURNING *
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor) SELECT id, 'RETRIED', $2 FROM retried
), woken AS (
  SELECT pg_notify('{schema}_ready', topic) FROM retried
)
SELECT *, (SELECT count(*) FROM woken) AS woken FROM retried;

-- name: TaskRetryAll
-- Bulk retry in bounded batches ($3 rows) so a large backlog never holds long locks.
WITH picked AS (
  SELECT id FROM {schema}.task
   WHERE state = $1 AND ($2::text IS NULL OR topic = $2)
   LIMIT $3
     FOR UPDATE SKIP LOCKED
), retried AS (
  UPDATE {schema}.task t
     SET state = 'ready', run_at = now(), finished_at = NULL,
         max_attempts = greatest(t.max_attempts, t.attempt + 1),
         deadline_at = now() + t.schedule_to_close_ms * interval '1 millisecond'
    FROM picked
   WHERE t.id = picked.id AND t.state = $1
  RETURNING t.id, t.topic, t.process_id
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor) SELECT id, 'RETRIED', $4 FROM retried
), woken AS (
  SELECT pg_notify('{schema}_ready', topic) FROM (SELECT DISTINCT topic FROM retried) AS t
)
SELECT count(*)::integer AS retried, (SELECT count(*) FROM woken) AS woken,
       array_agg(DISTINCT process_id) FILTER (WHERE process_id IS NOT NULL) AS processes
  FROM retried;

-- name: TaskMarkCompleted
-- Operator "mark done" with a given result. A running attempt is aborted (and archived).
WITH prior AS (
  SELECT id, state FROM {schema}.task WHERE id = $1 FOR UPDATE
), done AS (
  UPDATE {schema}.task t
     SET state = 'completed', result = $2::jsonb, error = NULL, finished_at = now(), lease_expires_at = NULL
    FROM prior
   WHERE t.id = prior.id AND prior.state IN ('pending', 'ready', 'running', 'waiting', 'suspended', 'failed', 'expired')
  RETURNING t.*, prior.state AS prior_state
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome)
  SELECT id, lease_token, attempt, lease_owner, attempted_at, 'cancelled' FROM done WHERE prior_state = 'running'
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, 'MARKED_COMPLETED', $3, jsonb_build_object('from', prior_state) FROM done
), aborted AS (
  SELECT pg_notify('{schema}_abort', id::text || ':completed') FROM done WHERE prior_state = 'running'
)
SELECT *, (SELECT count(*) FROM aborted) AS aborted FROM done;

-- name: TaskSuspend
-- Holds a task that is not running; it resumes to the state it had.
WITH suspended AS (
  UPDATE {schema}.task
     SET state = 'suspended', resume_state = state
   WHERE id = $1 AND state IN ('pending', 'ready', 'waiting')
  RETURNING *
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, 'SUSPENDED', $2, jsonb_build_object('from', resume_state) FROM suspended
)
SELECT * FROM suspended;

-- name: TaskResume
WITH resumed AS (
  UPDATE {schema}.task
     SET state = coalesce(resume_state, 'ready'), resume_state = NULL
   WHERE id = $1 AND state = 'suspended'
  RETURNING *
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, 'RESUMED', $2, jsonb_build_object('to', state) FROM resumed
), woken AS (
  SELECT pg_notify('{schema}_ready', topic) FROM resumed WHERE state = 'ready'
)
SELECT *, (SELECT count(*) FROM woken) AS woken FROM resumed;

-- name: TaskExpireDeadlines
-- TASK_ENQUEUE_TO_END_TIMEOUT: a task past its deadline (all attempts together took too long)
-- fails; a running attempt is aborted on its node through NOTIFY.
WITH due AS (
  SELECT id, state FROM {schema}.task
   WHERE deadline_at < now() AND deadline_at IS NOT NULL
     AND state IN ('pending', 'ready', 'running', 'waiting', 'suspended')
   ORDER BY deadline_at
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), ended AS (
  UPDATE {schema}.task t
     SET state = 'failed', finished_at = now(), lease_expires_at = NULL,
         error = jsonb_build_object('message', 'the task did not finish before its deadline (scheduleToCloseMs)',
                                    'code', 'TASK_ENQUEUE_TO_END_TIMEOUT', 'attempt', t.attempt)
    FROM due
   WHERE t.id = due.id AND t.state = due.state
  RETURNING t.*, due.state AS prior_state
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome, error)
  SELECT id, lease_token, attempt, lease_owner, attempted_at, 'timed_out', error FROM ended WHERE prior_state = 'running'
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, data)
  SELECT id, 'TASK_ENQUEUE_TO_END_TIMEOUT', jsonb_build_object('from', prior_state, 'deadline', deadline_at) FROM ended
), aborted AS (
  SELECT pg_notify('{schema}_abort', id::text || ':deadline') FROM ended WHERE prior_state = 'running'
)
SELECT *, (SELECT count(*) FROM aborted) AS aborted FROM ended;

-- name: TaskExpireUnstarted
-- TASK_SCHEDULE_TO_START_TIMEOUT: a ready task that no worker started within
-- schedule_to_start_ms of becoming due ends `expired`.
WITH due AS (
  SELECT id FROM {schema}.task
   WHERE state = 'ready' AND schedule_to_start_ms IS NOT NULL
     AND run_at + schedule_to_start_ms * interval '1 millisecond' < now()
   ORDER BY run_at
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), expired AS (
  UPDATE {schema}.task t
     SET state = 'expired', finished_at = now(),
         error = jsonb_build_object('message', 'no worker started the task in time (scheduleToStartMs)',
                                    'code', 'TASK_SCHEDULE_TO_START_TIMEOUT', 'attempt', t.attempt)
    FROM due
   WHERE t.id = due.id AND t.state = 'ready'
  RETURNING t.*
), events AS (
  INSERT INTO {schema}.task_event (task_id, kind, data)
  SELECT id, 'TASK_SCHEDULE_TO_START_TIMEOUT', jsonb_build_object('dueAt', run_at, 'scheduleToStartMs', schedule_to_start_ms) FROM expired
)
SELECT * FROM expired;

-- name: TaskClaimById
-- Claims one task by id for an inline run (`tl.run`), in the transaction that inserted it, so
-- no worker can take it first. Returns what TaskClaim returns.
UPDATE {schema}.task t
   SET state = 'running', attempt = t.attempt + 1, lease_token = t.lease_token + 1, lease_owner = $2,
       lease_expires_at = now() + coalesce(t.heartbeat_timeout_ms, $3::integer) * interval '1 millisecond',
       attempted_at = now(), heartbeat_at = now(), started_at = coalesce(t.started_at, now())
 WHERE t.id = $1 AND t.state = 'ready'
RETURNING t.id, t.topic, t.payload, t.priority, t.attempt, t.max_attempts, t.tags, t.key,
          t.process_id, t.step, t.lease_token, t.created_at,
          t.start_to_close_ms, t.heartbeat_timeout_ms, t.deadline_at, t.event, t.trace;
