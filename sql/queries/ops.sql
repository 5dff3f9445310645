-- Named queries for operators: task counts for GET /stats and /metrics, and readiness.

-- name: TaskStatsLive
-- Exact counts of every task that is not completed, by topic and state. Completed tasks, the
-- bulk of any history, are counted apart (below); the others are the backlog and the failures
-- an operator acts on. Ready and running tasks are named apart: task_claim_idx holds the ready
-- ones, task_lease_idx the running ones and task_state_idx the other unfinished ones (migrations
-- 0016 and 0017), so this reads the three indexes, not the history.
SELECT topic, state, count(*)::bigint AS n
  FROM {schema}.task
 WHERE state = 'ready' OR state = 'running' OR state NOT IN ('completed', 'ready', 'running')
 GROUP BY topic, state;

-- name: TaskStatsCompleted
-- Completed tasks, counted only up to $1 rows so the cost is bounded however long the history,
-- and the planner's estimate of the whole table (pg_class.reltuples: -1 until the table was
-- first analysed). Beyond the cap, the count is reltuples minus the live tasks.
SELECT (SELECT count(*) FROM (SELECT 1 FROM {schema}.task WHERE state = 'completed' LIMIT $1) AS capped)::bigint AS counted,
       (SELECT reltuples FROM pg_class WHERE oid = '{schema}.task'::regclass)::float8 AS table_estimate;

-- name: TaskStatsCompletedByTopic
-- Exact completed counts by topic; run only when TaskStatsCompleted stayed under its cap.
SELECT topic, count(*)::bigint AS n
  FROM {schema}.task
 WHERE state = 'completed'
 GROUP BY topic;

-- name: ProcessStats
-- Processes that are not completed, by state (completed ones are history, like completed tasks).
SELECT state, count(*)::bigint AS n FROM {schema}.process WHERE state <> 'completed' GROUP BY state;

-- name: MigrationVersions
-- The versions applied to the schema, for the readiness check.
SELECT version FROM {schema}.migration;
