-- Named queries of the external-task API: remote workers that fetch, lock and report tasks over
-- HTTP (the 5Minds and Camunda 7 dialects). A remote worker never sees the lease token, so it is
-- fenced by its worker id: every write is ONE statement guarded by
-- `state = 'running' AND lease_owner = <worker>`. Only when that statement changed nothing does
-- the caller run ExternalRejected to learn why (unknown, finished, locked by another worker).

-- name: ExternalFetchAndLock
-- Claims up to $3 ready tasks of the topics in $1 for worker $4 in one statement (the 5Minds
-- engine selected and then locked row by row, so two workers could both hold a task; here the
-- row lock of FOR UPDATE SKIP LOCKED and the UPDATE are one statement). $1: one JSON object per
-- topic {topic, lock_ms, business_key, process_names}; $2: the same topic names, so the filter
-- is a plain `= ANY` on the claim index's rows; $5: tags (null: any); $6: whether any topic has a
-- business-key or process filter (false keeps the EXISTS off the common path). The lock of each
-- task is its topic's lock duration. Ordered like task_claim_idx: priority first.
WITH topics AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(topic text, lock_ms integer, business_key text, process_names jsonb)
), picked AS (
  SELECT t.id FROM {schema}.task t
   WHERE t.state = 'ready'
     AND t.run_at <= now()
     AND t.topic = ANY($2::text[])
     AND ($5::text[] IS NULL OR t.tags = '{}' OR t.tags && $5::text[])
     AND (t.deadline_at IS NULL OR t.deadline_at > now())
     AND (t.schedule_to_start_ms IS NULL OR t.run_at + t.schedule_to_start_ms * interval '1 millisecond' >= now())
     AND (NOT $6::boolean OR EXISTS (
           SELECT 1 FROM topics x LEFT JOIN {schema}.process p ON p.id = t.process_id
            WHERE x.topic = t.topic
              AND (x.business_key IS NULL OR x.business_key = coalesce(p.key, t.key))
              AND (x.process_names IS NULL OR p.name IN (SELECT jsonb_array_elements_text(x.process_names)))))
   ORDER BY t.priority DESC, t.run_at, t.id
   LIMIT $3
     FOR UPDATE SKIP LOCKED
)
UPDATE {schema}.task t
   SET state = 'running',
       attempt = t.attempt + 1,
       lease_token = t.lease_token + 1,
       lease_owner = $4,
       lease_expires_at = now() + (SELECT max(x.lock_ms) FROM topics x WHERE x.topic = t.topic) * interval '1 millisecond',
       attempted_at = now(),
       heartbeat_at = now(),
       started_at = coalesce(t.started_at, now()),
       progress = NULL
  FROM picked
 WHERE t.id = picked.id
RETURNING t.*,
          -- CASE keeps the subqueries off plain tasks.
          CASE WHEN t.process_id IS NULL THEN NULL
               ELSE (SELECT p.key FROM {schema}.process p WHERE p.id = t.process_id) END AS process_key,
          CASE WHEN t.process_id IS NULL THEN NULL
               ELSE (SELECT p.name FROM {schema}.process p WHERE p.id = t.process_id) END AS process_name,
          CASE WHEN t.process_id IS NULL THEN NULL
               ELSE (SELECT p.input FROM {schema}.process p WHERE p.id = t.process_id) END AS process_input,
          -- The results of the completed parents, oldest step first: a Camunda worker sees them as
          -- process variables.
          CASE WHEN t.process_id IS NULL THEN NULL
               ELSE (SELECT jsonb_agg(pt.result ORDER BY pt.id)
                       FROM {schema}.task_edge e JOIN {schema}.task pt ON pt.id = e.parent_id
                      WHERE e.child_id = t.id AND pt.state = 'completed') END AS parent_results;

-- name: ExternalGet
SELECT t.*, p.key AS process_key, p.name AS process_name
  FROM {schema}.task t LEFT JOIN {schema}.process p ON p.id = t.process_id
 WHERE t.id = $1;

-- name: ExternalExtendLock
-- The new lock runs $3 ms from now (5Minds additionalDuration, Camunda newDuration).
UPDATE {schema}.task
   SET lease_expires_at = now() + $3::integer * interval '1 millisecond', heartbeat_at = now()
 WHERE id = $1 AND state = 'running' AND lease_owner = $2
RETURNING id, lease_expires_at;

-- name: ExternalComplete
-- A process step's completion advances its process in this statement (trigger steps_finished).
UPDATE {schema}.task
   SET state = 'completed', result = $3::jsonb, error = NULL, finished_at = now(), lease_expires_at = NULL
 WHERE id = $1 AND state = 'running' AND lease_owner = $2
RETURNING id;

-- name: ExternalFail
-- A failure reported by the lock holder $2. $4 false (a BPMN/business error): never retried.
-- $5 (Camunda `retries`): the worker decides how many attempts remain, so max_attempts becomes
-- attempt + $5 (0: failed, shown as an incident); null: the task's own policy, as TaskFailMany.
-- $6 (Camunda `retryTimeout`): delay before the retry; null: the task's backoff (retry_delay).
-- A retry that would start at or after the task's deadline fails instead. A step that ends
-- `failed` follows its onFailure policy in this statement (trigger steps_finished).
WITH decided AS (
  SELECT t.id,
         CASE WHEN NOT $4::boolean THEN false
              WHEN $5::integer IS NOT NULL THEN $5::integer > 0
              ELSE t.attempt < t.max_attempts END AS may_retry,
         now() + CASE WHEN $6::integer IS NOT NULL THEN $6::integer * interval '1 millisecond'
                      ELSE {schema}.retry_delay(t.backoff, t.backoff_initial_ms, t.backoff_max_ms, t.backoff_jitter, t.attempt) END AS retry_at,
         t.deadline_at
    FROM {schema}.task t
   WHERE t.id = $1 AND t.state = 'running' AND t.lease_owner = $2
), failed AS (
  UPDATE {schema}.task t
     SET state = CASE WHEN d.may_retry AND (d.deadline_at IS NULL OR d.retry_at < d.deadline_at) THEN 'ready' ELSE 'failed' END,
         run_at = CASE WHEN d.may_retry AND (d.deadline_at IS NULL OR d.retry_at < d.deadline_at) THEN d.retry_at ELSE t.run_at END,
         finished_at = CASE WHEN d.may_retry AND (d.deadline_at IS NULL OR d.retry_at < d.deadline_at) THEN NULL ELSE now() END,
         error = $3::jsonb || jsonb_build_object('attempt', t.attempt),
         -- bigint and least(): a huge `retries` must not overflow the integer column.
         max_attempts = CASE WHEN $5::integer IS NULL THEN t.max_attempts
                             ELSE least(t.attempt::bigint + $5::integer, 2147483647)::integer END,
         lease_expires_at = NULL
    FROM decided d
   WHERE t.id = d.id AND t.state = 'running' AND t.lease_owner = $2
  RETURNING t.id, t.topic, t.state, t.run_at, t.attempt, t.lease_token, t.lease_owner, t.attempted_at, t.error
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome, error)
  SELECT id, lease_token, attempt, lease_owner, attempted_at, CASE WHEN state = 'failed' THEN 'failed' ELSE 'retried' END, error
    FROM failed
), woken AS (
  -- A retry due now wakes long-polling fetches on every node; a later one is found by their poll.
  SELECT pg_notify('{schema}_ready', topic) FROM failed WHERE state = 'ready' AND run_at <= now()
)
SELECT id, state, run_at, (SELECT count(*) FROM woken) AS woken FROM failed;

-- name: ExternalLock
-- Camunda `lock`: locks one task by id for worker $2 without fetching. A ready task is claimed
-- (new attempt, new lease token, whatever its run_at); a task this worker already holds gets the
-- new lock duration; any other state changes nothing.
WITH locked AS (
  UPDATE {schema}.task t
     SET state = 'running',
         attempt = CASE WHEN t.state = 'ready' THEN t.attempt + 1 ELSE t.attempt END,
         lease_token = CASE WHEN t.state = 'ready' THEN t.lease_token + 1 ELSE t.lease_token END,
         attempted_at = CASE WHEN t.state = 'ready' THEN now() ELSE t.attempted_at END,
         progress = CASE WHEN t.state = 'ready' THEN NULL ELSE t.progress END,
         lease_owner = $2,
         lease_expires_at = now() + $3::integer * interval '1 millisecond',
         heartbeat_at = now(),
         started_at = coalesce(t.started_at, now())
   WHERE t.id = $1 AND (t.state = 'ready' OR (t.state = 'running' AND t.lease_owner = $2))
  RETURNING t.*
)
SELECT locked.*, p.key AS process_key, p.name AS process_name
  FROM locked LEFT JOIN {schema}.process p ON p.id = locked.process_id;

-- name: ExternalUnlock
-- Camunda `unlock` (no worker id in that protocol): a running task goes back to `ready` at once
-- and the interrupted attempt does not count, as TaskReleaseMany does for in-process workers.
WITH unlocked AS (
  UPDATE {schema}.task t
     SET state = 'ready', attempt = t.attempt - 1, run_at = now(), lease_expires_at = NULL
   WHERE t.id = $1 AND t.state = 'running'
  RETURNING t.id, t.topic, t.lease_token, t.attempt, t.lease_owner, t.attempted_at
), history AS (
  INSERT INTO {schema}.task_attempt (task_id, lease_token, attempt, worker, started_at, outcome)
  SELECT id, lease_token, attempt + 1, lease_owner, attempted_at, 'interrupted' FROM unlocked
), woken AS (
  SELECT pg_notify('{schema}_ready', topic) FROM unlocked
)
SELECT id, (SELECT count(*) FROM woken) AS woken FROM unlocked;

-- name: ExternalRejected
-- After a guarded write changed nothing: the task's state and lock holder, so the caller can tell
-- unknown (no row) from finished from locked by another worker. The rejected call is recorded
-- ($2 the worker, $3 the operation); the task itself is not touched.
WITH found AS (
  SELECT id, state, lease_owner, lease_token FROM {schema}.task WHERE id = $1
), recorded AS (
  INSERT INTO {schema}.task_event (task_id, kind, actor, data)
  SELECT id, 'STALE_RESULT_REJECTED', $2,
         jsonb_build_object('outcome', $3::text, 'state', state, 'lockedBy', lease_owner, 'leaseToken', lease_token)
    FROM found
)
SELECT state, lease_owner FROM found;

-- name: ExternalList
-- Camunda `GET /external-task`: tasks that exist as external tasks in Camunda's sense (ready,
-- running, suspended, and failed ones as incidents). Boolean filters apply only when true, as in
-- Camunda. $14 sort key (id | priority | createTime | lockExpirationTime | processInstanceId),
-- $15 descending; id breaks ties. Offset paging: these lists are for operators, not the hot path.
SELECT t.*, p.key AS process_key, p.name AS process_name
  FROM {schema}.task t LEFT JOIN {schema}.process p ON p.id = t.process_id
 WHERE (t.state = 'ready' OR t.state = 'running' OR t.state IN ('suspended', 'failed'))
   AND ($1::text IS NULL OR t.topic = $1)
   AND ($2::text IS NULL OR (t.state = 'running' AND t.lease_owner = $2))
   AND (NOT $3::boolean OR (t.state = 'running' AND t.lease_expires_at > now()))
   AND (NOT $4::boolean OR NOT (t.state = 'running' AND t.lease_expires_at > now()))
   AND (NOT $5::boolean OR t.state <> 'failed')
   AND (NOT $6::boolean OR t.state = 'failed')
   AND (NOT $7::boolean OR t.state <> 'suspended')
   AND (NOT $8::boolean OR t.state = 'suspended')
   AND ($9::integer IS NULL OR t.priority >= $9::integer)
   AND ($10::integer IS NULL OR t.priority <= $10::integer)
   AND ($11::bigint[] IS NULL OR t.id = ANY($11::bigint[]))
   AND ($12::bigint[] IS NULL OR t.process_id = ANY($12::bigint[]))
   AND ($13::text IS NULL OR coalesce(t.step, t.topic) = $13::text)
 ORDER BY
   CASE WHEN $14::text = 'priority' AND NOT $15::boolean THEN t.priority END,
   CASE WHEN $14::text = 'priority' AND $15::boolean THEN t.priority END DESC,
   CASE WHEN $14::text = 'createTime' AND NOT $15::boolean THEN t.created_at END,
   CASE WHEN $14::text = 'createTime' AND $15::boolean THEN t.created_at END DESC,
   CASE WHEN $14::text = 'lockExpirationTime' AND NOT $15::boolean THEN t.lease_expires_at END,
   CASE WHEN $14::text = 'lockExpirationTime' AND $15::boolean THEN t.lease_expires_at END DESC,
   CASE WHEN $14::text = 'processInstanceId' AND NOT $15::boolean THEN t.process_id END,
   CASE WHEN $14::text = 'processInstanceId' AND $15::boolean THEN t.process_id END DESC,
   CASE WHEN $15::boolean THEN t.id END DESC,
   t.id
 OFFSET $16 LIMIT $17;

-- name: ExternalCount
-- The filters of ExternalList, counted.
SELECT count(*)::integer AS count
  FROM {schema}.task t
 WHERE (t.state = 'ready' OR t.state = 'running' OR t.state IN ('suspended', 'failed'))
   AND ($1::text IS NULL OR t.topic = $1)
   AND ($2::text IS NULL OR (t.state = 'running' AND t.lease_owner = $2))
   AND (NOT $3::boolean OR (t.state = 'running' AND t.lease_expires_at > now()))
   AND (NOT $4::boolean OR NOT (t.state = 'running' AND t.lease_expires_at > now()))
   AND (NOT $5::boolean OR t.state <> 'failed')
   AND (NOT $6::boolean OR t.state = 'failed')
   AND (NOT $7::boolean OR t.state <> 'suspended')
   AND (NOT $8::boolean OR t.state = 'suspended')
   AND ($9::integer IS NULL OR t.priority >= $9::integer)
   AND ($10::integer IS NULL OR t.priority <= $10::integer)
   AND ($11::bigint[] IS NULL OR t.id = ANY($11::bigint[]))
   AND ($12::bigint[] IS NULL OR t.process_id = ANY($12::bigint[]))
   AND ($13::text IS NULL OR coalesce(t.step, t.topic) = $13::text);
