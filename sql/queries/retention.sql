-- Retention: finished work is deleted by age (and, optionally, beyond a count) in small batches,
-- so pruning never holds many locks or one long transaction. Plain tasks go one by one; the
-- steps of a process go with their process, never before it.

-- name: PruneTasks
-- Deletes up to $3 finished plain tasks: completed ones finished more than $1 ms ago, failed,
-- cancelled and expired ones more than $2 ms ago, with their attempts and events. Walks the
-- primary key from the oldest row, so it needs no index of its own.
WITH doomed AS (
  SELECT id FROM {schema}.task
   WHERE process_id IS NULL
     AND ((state = 'completed' AND finished_at < now() - $1::bigint * interval '1 millisecond')
       OR (state IN ('failed', 'cancelled', 'expired') AND finished_at < now() - $2::bigint * interval '1 millisecond'))
   ORDER BY id
   LIMIT $3
     FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM {schema}.task t USING doomed WHERE t.id = doomed.id RETURNING t.id
), attempts AS (
  DELETE FROM {schema}.task_attempt a USING gone WHERE a.task_id = gone.id
), events AS (
  DELETE FROM {schema}.task_event e USING gone WHERE e.task_id = gone.id
)
SELECT count(*)::integer AS deleted FROM gone;

-- name: PruneTasksCount
-- What PruneTasks would delete in all (for `--dry-run`).
SELECT count(*)::integer AS n FROM {schema}.task
 WHERE process_id IS NULL
   AND ((state = 'completed' AND finished_at < now() - $1::bigint * interval '1 millisecond')
     OR (state IN ('failed', 'cancelled', 'expired') AND finished_at < now() - $2::bigint * interval '1 millisecond'));

-- name: PruneProcesses
-- Deletes up to $3 finished processes (completed ones after $1 ms, others after $2 ms) with
-- their steps, edges, attempts and events.
WITH doomed AS (
  SELECT id FROM {schema}.process
   WHERE (state = 'completed' AND finished_at < now() - $1::bigint * interval '1 millisecond')
      OR (state IN ('failed', 'cancelled', 'timed_out') AND finished_at < now() - $2::bigint * interval '1 millisecond')
   ORDER BY id
   LIMIT $3
     FOR UPDATE SKIP LOCKED
), steps AS (
  DELETE FROM {schema}.task t USING doomed WHERE t.process_id = doomed.id RETURNING t.id
), edges AS (
  DELETE FROM {schema}.task_edge e USING steps WHERE e.child_id = steps.id
), attempts AS (
  DELETE FROM {schema}.task_attempt a USING steps WHERE a.task_id = steps.id
), events AS (
  DELETE FROM {schema}.task_event e WHERE e.task_id IN (SELECT id FROM steps) OR e.process_id IN (SELECT id FROM doomed)
), gone AS (
  DELETE FROM {schema}.process p USING doomed WHERE p.id = doomed.id RETURNING p.id
)
SELECT count(*)::integer AS deleted, (SELECT count(*) FROM steps)::integer AS steps FROM gone;

-- name: PruneProcessesCount
SELECT count(*)::integer AS n FROM {schema}.process
 WHERE (state = 'completed' AND finished_at < now() - $1::bigint * interval '1 millisecond')
    OR (state IN ('failed', 'cancelled', 'timed_out') AND finished_at < now() - $2::bigint * interval '1 millisecond');

-- name: PruneBeyondCount
-- Count-based retention: deletes up to $2 finished plain tasks older than the newest $1
-- finished ones.
WITH doomed AS (
  SELECT id FROM {schema}.task
   WHERE process_id IS NULL AND state IN ('completed', 'failed', 'cancelled', 'expired')
   ORDER BY id DESC
  OFFSET $1
   LIMIT $2
     FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM {schema}.task t USING doomed WHERE t.id = doomed.id RETURNING t.id
), attempts AS (
  DELETE FROM {schema}.task_attempt a USING gone WHERE a.task_id = gone.id
), events AS (
  DELETE FROM {schema}.task_event e USING gone WHERE e.task_id = gone.id
)
SELECT count(*)::integer AS deleted FROM gone;

-- name: PruneBeyondCountCount
SELECT greatest(count(*) - $1, 0)::integer AS n FROM {schema}.task
 WHERE process_id IS NULL AND state IN ('completed', 'failed', 'cancelled', 'expired');

-- name: CountUnfinished
-- Back-pressure: unfinished tasks in all, and of the topics in $1 (served by the partial indexes
-- task_claim_idx for the ready ones, task_lease_idx for the running ones and task_state_idx for
-- the others: see TaskStatsLive).
SELECT coalesce(sum(n), 0)::integer AS total,
       coalesce(jsonb_object_agg(topic, n) FILTER (WHERE topic = ANY($1::text[])), '{}'::jsonb) AS by_topic
  FROM (SELECT topic, count(*) AS n FROM {schema}.task
         WHERE state = 'ready' OR state = 'running' OR state IN ('pending', 'waiting', 'suspended')
         GROUP BY topic) AS t;
