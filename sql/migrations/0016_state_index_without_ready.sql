-- Version 16: task_state_idx leaves ready tasks out, as it already left completed ones out.
-- Enqueueing a task and freeing a process step (pending → ready) then write no entry there: a
-- ready task has its entry in task_claim_idx, which every query for ready tasks can read
-- instead. Inserting 1,000 tasks took 10–13% less time (measured, enqueueMany in calls of 1,000).
-- The queries that count or list several states at once name the ready ones apart
-- (`state = 'ready' OR state IN (…)`), so the planner combines the two indexes instead of
-- reading the table.
-- Building the index reads the table once and holds off writes to it while it does: on a large
-- table, run this migration at a quiet moment (docs/upgrading.md).
CREATE INDEX IF NOT EXISTS task_state_idx_16 ON {schema}.task (state, id) WHERE state NOT IN ('completed', 'ready');
DROP INDEX {schema}.task_state_idx;
ALTER INDEX {schema}.task_state_idx_16 RENAME TO task_state_idx;
