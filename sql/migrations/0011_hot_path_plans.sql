-- Version 11: plans of the claim and completion paths that hold whatever the statistics and the
-- batch.
--
-- Every statement of this path is driven by one batch of ids (at most a few thousand): it should
-- look each one up through an index. Without statistics (a fresh or fast-growing table; PGlite
-- never runs autovacuum) the planner chose otherwise. Measured at 10,000 running process steps,
-- completing 1,000 of them: the completion hash-joined every running task (4 ms), releasing their
-- children hash-joined a sequential scan of the whole task table (20 ms for 22,000 rows) and
-- locking their processes sorted a sequential scan: 40 ms in all, 33 ms with the plans below.
-- Worse, the process trigger found its finished steps by joining its two transition tables with
-- the plan PL/pgSQL cached for the first statement it saw: made for one row, it compared every
-- pair of rows of later statements, and completions of 2,000 steps took 0.5 s each (seen as
-- seconds-long stalls in benchmark D).

-- TaskCompleteMany's update, as a function so that its plan can be pinned: one primary-key probe
-- per completed attempt, whatever the statistics say. Its SET clauses also hold for the process
-- trigger it fires (which sets its own, below).
CREATE FUNCTION {schema}.complete_tasks(ids bigint[], tokens integer[], results jsonb[])
RETURNS SETOF bigint
LANGUAGE sql VOLATILE
ROWS 1000
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
  UPDATE {schema}.task t
     SET state = 'completed', result = i.result, error = NULL, finished_at = now(), lease_expires_at = NULL
    FROM unnest(ids, tokens, results) AS i(id, token, result)
   -- `state || ''`, not `state`: the same guard, in a form no partial index predicate follows
   -- from. Otherwise, with statistics taken while nothing ran, the planner walked all of
   -- task_state_idx's running rows once per completed attempt: 0.6 s for 1,000 (measured).
   WHERE t.id = i.id AND t.lease_token = i.token AND t.state || '' = 'running'
  RETURNING t.id
$$;

-- The process trigger of version 7 with plans that hold for any batch: batches of ids look rows
-- up by index (no sequential or bitmap scans of the whole table), and the finished steps are
-- found without joining the statement's transition tables (see below). Otherwise unchanged.
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
  n integer;
BEGIN
  -- Plain tasks (no process) leave at once: one scan of the statement's new rows.
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

  -- 1. Release children, once per edge: an edge is marked released when its parent frees the
  -- child, so a parent that finishes again (retried after failing with `continue`) cannot
  -- free the child a second time.
  WITH f AS (
    SELECT * FROM unnest(f_ids, f_states, f_policies) AS f(id, state, on_failure)
  ), marked AS (
    UPDATE {schema}.task_edge edge
       SET released = true
      FROM f
     WHERE edge.parent_id = f.id AND NOT edge.released
       AND (f.state = 'completed' OR (f.state IN ('failed', 'expired') AND f.on_failure = 'continue'))
    RETURNING edge.child_id
  ), released AS (
    UPDATE {schema}.task c
       SET pending_parents = c.pending_parents - e.n,
           state = CASE WHEN c.state = 'pending' AND c.pending_parents - e.n <= 0 THEN 'ready' ELSE c.state END,
           resume_state = CASE WHEN c.state = 'suspended' AND c.resume_state = 'pending' AND c.pending_parents - e.n <= 0
                               THEN 'ready' ELSE c.resume_state END,
           run_at = CASE WHEN c.state = 'pending' AND c.pending_parents - e.n <= 0 THEN greatest(c.run_at, now()) ELSE c.run_at END
      FROM (SELECT child_id, count(*) AS n FROM marked GROUP BY child_id) e
     WHERE c.id = e.child_id
    RETURNING c.topic, c.state
  )
  SELECT count(pg_notify('{schema}_ready', topic)) INTO n FROM (SELECT DISTINCT topic FROM released WHERE state = 'ready') r;

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
  UPDATE {schema}.process p
     SET state = 'completed', finished_at = now()
   WHERE p.id = ANY(f_pids)
     AND p.state = 'running'
     AND NOT EXISTS (SELECT 1 FROM {schema}.task t
                      WHERE t.process_id = p.id AND t.state || '' NOT IN ('completed', 'failed', 'cancelled', 'expired'));
  RETURN NULL;
END
$$;

-- claim_ids (version 8) in PL/pgSQL, with an estimate of one row. PL/pgSQL plans its query once
-- per session; a SQL function that cannot be inlined (its SET clauses prevent that) was planned
-- at every call: 0.35 ms of a one-row claim. With the estimate of 100 rows, TaskClaim joined the
-- picked ids to a table of a few thousand rows by hashing a sequential scan of all of it (0.8 ms
-- more per claim, growing with the table); at one row it probes the primary key per picked id,
-- in claim order, whatever the size. Measured on one-row claims after an idle pause: 2.4 ms
-- before, 1.5 ms after (a bare UPDATE … SKIP LOCKED: 1.2–1.5 ms).
CREATE OR REPLACE FUNCTION {schema}.claim_ids(topics text[], worker_tags text[], n integer, now_ts timestamptz)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
ROWS 1
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_seqscan = off
AS $$
BEGIN
  RETURN QUERY
  SELECT id FROM {schema}.task
   WHERE state = 'ready'
     AND run_at <= coalesce(now_ts, now())
     AND topic = ANY(topics)
     AND (tags = '{}' OR tags && worker_tags)
     AND (deadline_at IS NULL OR deadline_at > now())
     AND (schedule_to_start_ms IS NULL OR run_at + schedule_to_start_ms * interval '1 millisecond' >= now())
   ORDER BY priority DESC, run_at, id
   LIMIT n
     FOR UPDATE SKIP LOCKED;
END
$$;
