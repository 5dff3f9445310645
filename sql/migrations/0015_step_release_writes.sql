-- Version 15: fewer writes when process steps finish (the process trigger of version 11, two
-- changes; docs/benchmarks.md has the measurements).
--
-- 1. A parent no longer marks its edges as it frees its children. The edges remember a release
--    only for a step that finished and was then reopened (step 0 below): the one case in which
--    a parent finishes twice. Edges marked before this version stay marked, which means the same.
-- 2. The processes of children just freed are not checked for completion: such a child has not
--    finished, so neither has its process. For a step with a successor (step 1 of two) that was
--    a probe of the process's steps per finished step for nothing.

CREATE OR REPLACE FUNCTION {schema}.steps_finished() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = on
SET enable_mergejoin = on
SET enable_seqscan = off
SET enable_bitmapscan = off
-- Room for the hashed subplan below whatever the size of the statement (PostgreSQL hashes a
-- subplan only when it expects it to fit in work_mem).
SET work_mem = '64MB'
AS $$
DECLARE
  f_ids bigint[];
  f_pids bigint[];
  f_states text[];
  f_policies text[];
  f_steps text[];
  open_pids bigint[];
  freed_before bigint[];
  n integer;
BEGIN
  -- Statements of plain tasks only (no process step) leave at once: one scan of the new rows, as
  -- before this version.
  IF NOT EXISTS (SELECT 1 FROM new_rows WHERE process_id IS NOT NULL) THEN
    RETURN NULL;
  END IF;

  -- 0. Steps that freed their children and run again (an operator retried a step that failed or
  -- expired under `continue`): their edges now remember that the children were freed, so that
  -- the step's next finish does not free them a second time. Here, not in the retry statements,
  -- so that every statement that reopens a step does it, from any release of the engine.
  SELECT array_agg(o.id) INTO freed_before
    FROM old_rows o
   WHERE o.process_id IS NOT NULL AND o.state IN ('failed', 'expired') AND o.on_failure = 'continue';
  IF freed_before IS NOT NULL THEN
    UPDATE {schema}.task_edge e
       SET released = true
     WHERE e.parent_id = ANY(freed_before) AND NOT e.released
       AND e.parent_id IN (SELECT nr.id FROM new_rows nr WHERE nr.state NOT IN ('completed', 'failed', 'cancelled', 'expired'));
  END IF;

  -- Statements that finished no step leave here.
  IF NOT EXISTS (SELECT 1 FROM new_rows WHERE process_id IS NOT NULL AND state IN ('completed', 'failed', 'cancelled', 'expired')) THEN
    RETURN NULL;
  END IF;
  -- Kept in local arrays, not a temp table: this function re-enters itself (step 3).
  SELECT array_agg(nr.id), array_agg(nr.process_id), array_agg(nr.state), array_agg(coalesce(nr.on_failure, 'fail-process')), array_agg(nr.step)
    INTO f_ids, f_pids, f_states, f_policies, f_steps
    FROM new_rows nr
   WHERE nr.process_id IS NOT NULL
     AND nr.state IN ('completed', 'failed', 'cancelled', 'expired')
     -- Rows that were not finished before the statement. Not a join of the two transition
     -- tables: PL/pgSQL keeps the plan it made for the first statement it saw, and a plan made
     -- for a one-row statement (a nested loop) compared every pair of rows later: 0.5 s for a
     -- completion of 2,000 steps. NOT IN runs as one hashed subplan, linear in the rows.
     AND nr.id NOT IN (SELECT o.id FROM old_rows o WHERE o.state IN ('completed', 'failed', 'cancelled', 'expired'));
  IF f_ids IS NULL THEN
    RETURN NULL;
  END IF;
  -- Serialise per process: two transactions finishing the last two steps of one process must
  -- not both see the other's step as unfinished (then neither would complete the process).
  PERFORM 1 FROM {schema}.process WHERE id = ANY(f_pids) ORDER BY id FOR NO KEY UPDATE;

  -- 1. Release children, once per edge: a parent frees each child whose edge it has not freed
  -- before (step 0). The edges are only read here: marking each one as its parent finished was
  -- an update of every edge of every finished step (9 ms of a 48 ms completion of 1,000 steps,
  -- measured), for the rare parent that finishes twice.
  WITH f AS (
    SELECT * FROM unnest(f_ids, f_states, f_policies) AS f(id, state, on_failure)
  ), freed AS (
    SELECT e.child_id, count(*) AS n
      FROM {schema}.task_edge e
      JOIN f ON e.parent_id = f.id
     WHERE NOT e.released
       AND (f.state = 'completed' OR (f.state IN ('failed', 'expired') AND f.on_failure = 'continue'))
     GROUP BY e.child_id
  ), released AS (
    UPDATE {schema}.task c
       SET pending_parents = c.pending_parents - e.n,
           state = CASE WHEN c.state = 'pending' AND c.pending_parents - e.n <= 0 THEN 'ready' ELSE c.state END,
           resume_state = CASE WHEN c.state = 'suspended' AND c.resume_state = 'pending' AND c.pending_parents - e.n <= 0
                               THEN 'ready' ELSE c.resume_state END,
           run_at = CASE WHEN c.state = 'pending' AND c.pending_parents - e.n <= 0 THEN greatest(c.run_at, now()) ELSE c.run_at END
      FROM freed e
     WHERE c.id = e.child_id
    RETURNING c.topic, c.state, c.process_id
  )
  SELECT (SELECT count(pg_notify('{schema}_ready', topic)) FROM (SELECT DISTINCT topic FROM released WHERE state = 'ready') r),
         -- The processes left to check in step 4: a process with a child just freed and not
         -- finished has an unfinished step. (A child finished later, in step 3 or by another
         -- statement, checks its process in the trigger of that statement.)
         ARRAY(SELECT unnest(f_pids)
               EXCEPT
               SELECT process_id FROM released WHERE state NOT IN ('completed', 'failed', 'cancelled', 'expired'))
    INTO n, open_pids;

  -- 2. Fail the process.
  UPDATE {schema}.process p
     SET state = 'failed', finished_at = now(),
         error = jsonb_build_object('message', 'step "' || f.step || '" failed', 'step', f.step, 'taskId', f.id::text)
    FROM (SELECT DISTINCT ON (pid) id, pid, step
            FROM unnest(f_ids, f_pids, f_states, f_policies, f_steps) AS u(id, pid, state, on_failure, step)
           WHERE state IN ('failed', 'expired') AND on_failure = 'fail-process'
           ORDER BY pid, id) f
   WHERE p.id = f.pid AND p.state IN ('running', 'suspended');
  PERFORM {schema}.cancel_steps(array_agg(DISTINCT pid), 'PROCESS_FAILED', 'the process failed')
     FROM unnest(f_pids, f_states, f_policies) AS u(pid, state, on_failure)
    WHERE state IN ('failed', 'expired') AND on_failure = 'fail-process';

  -- 3. Skip the branch below (recorded per skipped step).
  WITH skipped AS (
    UPDATE {schema}.task c
       SET state = 'cancelled', finished_at = now(),
           error = jsonb_build_object('message', 'skipped: a step it depends on did not complete', 'code', 'SKIPPED', 'attempt', c.attempt)
      FROM {schema}.task_edge e
      JOIN unnest(f_ids, f_states, f_policies) AS f(id, state, on_failure) ON f.id = e.parent_id
     WHERE c.id = e.child_id
       AND (f.state = 'cancelled' OR (f.state IN ('failed', 'expired') AND f.on_failure = 'skip-dependents'))
       -- `state || ''`: see step 4.
       AND (c.state || '' = 'pending' OR (c.state || '' = 'suspended' AND c.resume_state = 'pending'))
    RETURNING c.id, e.parent_id
  )
  INSERT INTO {schema}.task_event (task_id, kind, data)
  SELECT id, 'SKIPPED', jsonb_build_object('parentTaskId', parent_id::text) FROM skipped;

  -- 4. Complete processes with no unfinished step left. `t.state || ''` is `t.state` in a form
  -- from which the predicate of task_state_idx (state <> 'completed') does not follow: with
  -- statistics taken while every task had finished, the planner otherwise walked that whole
  -- index once per process (2 s for a completion of 1,000 steps on PGlite) instead of probing
  -- task_process_idx.
  IF cardinality(open_pids) = 0 THEN
    RETURN NULL;
  END IF;
  UPDATE {schema}.process p
     SET state = 'completed', finished_at = now()
   WHERE p.id = ANY(open_pids)
     AND p.state = 'running'
     AND NOT EXISTS (SELECT 1 FROM {schema}.task t
                      WHERE t.process_id = p.id AND t.state || '' NOT IN ('completed', 'failed', 'cancelled', 'expired'));
  RETURN NULL;
END
$$;
