-- Version 3: processes (multi-step DAGs whose steps are tasks) and events that wake waiting tasks.

-- A process. Its ids come from the task id sequence, so an id names either a task or a process,
-- never both (sendEvent and the HTTP API accept either).
CREATE TABLE {schema}.process (
  id           bigint      PRIMARY KEY DEFAULT nextval('{schema}.task_id_seq'),
  key          text,
  name         text        NOT NULL,
  -- running | completed | failed | cancelled | timed_out | suspended
  state        text        NOT NULL DEFAULT 'running',
  input        jsonb,
  -- The definition as started (steps normalised) and its hash: a second start with the same
  -- key is the same process only when the hash matches.
  definition   jsonb       NOT NULL,
  definition_hash text     NOT NULL,
  error        jsonb,
  deadline_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  CONSTRAINT process_state_check CHECK (state IN ('running', 'completed', 'failed', 'cancelled', 'timed_out', 'suspended'))
);
CREATE UNIQUE INDEX process_key_idx ON {schema}.process (key) WHERE key IS NOT NULL;
CREATE INDEX process_deadline_idx ON {schema}.process (deadline_at) WHERE state = 'running' AND deadline_at IS NOT NULL;
CREATE INDEX process_state_idx ON {schema}.process (state, id);

ALTER TABLE {schema}.task
  -- Parents not finished yet; the step becomes ready when it reaches 0.
  ADD COLUMN pending_parents integer NOT NULL DEFAULT 0,
  -- What a permanent failure of this step does: fail-process | continue | skip-dependents.
  ADD COLUMN on_failure text,
  -- The step's result is (part of) the process output.
  ADD COLUMN is_output boolean NOT NULL DEFAULT false,
  -- waitForEvent: the awaited event's name and until when; the event that arrived.
  ADD COLUMN wait_event text,
  ADD COLUMN wait_until timestamptz,
  ADD COLUMN event jsonb;

CREATE INDEX task_process_idx ON {schema}.task (process_id) WHERE process_id IS NOT NULL;
CREATE INDEX task_wait_idx ON {schema}.task (wait_until) WHERE state = 'waiting' AND wait_until IS NOT NULL;

-- Dependency edges between the steps of a process.
CREATE TABLE {schema}.task_edge (
  parent_id  bigint NOT NULL,
  child_id   bigint NOT NULL,
  PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX task_edge_child_idx ON {schema}.task_edge (child_id);

-- Advances processes when steps finish, inside the statement that finished them (claim,
-- completion, failure, rescue, timeout, cancel, operator action alike), so no poller is needed
-- and no path can forget it. Statement-level with transition tables: one pass per batch.
--
-- For the steps that reached a terminal state in this statement:
-- 1. completed, or failed/expired with on_failure = continue: children lose a pending parent
--    and become ready at 0 (NOTIFY wakes workers of their topics);
-- 2. failed/expired with fail-process (the default): the process fails and every unfinished
--    step is cancelled; running ones are aborted on their node through NOTIFY;
-- 3. failed/expired with skip-dependents, or cancelled: pending children are cancelled (which
--    re-enters this trigger, so the whole branch below is skipped);
-- 4. a running process whose steps are all terminal completes.
CREATE FUNCTION {schema}.steps_finished() RETURNS trigger LANGUAGE plpgsql AS $$
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
    FROM new_rows nr JOIN old_rows o ON o.id = nr.id
   WHERE nr.process_id IS NOT NULL
     AND nr.state IN ('completed', 'failed', 'cancelled', 'expired')
     AND o.state NOT IN ('completed', 'failed', 'cancelled', 'expired');
  IF f_ids IS NULL THEN
    RETURN NULL;
  END IF;
  -- Serialise per process: two transactions finishing the last two steps of one process must
  -- not both see the other's step as unfinished (then neither would complete the process).
  PERFORM 1 FROM {schema}.process WHERE id = ANY(f_pids) ORDER BY id FOR NO KEY UPDATE;

  -- 1. Release children.
  WITH f AS (
    SELECT * FROM unnest(f_ids, f_states, f_policies) AS f(id, state, on_failure)
  ), released AS (
    UPDATE {schema}.task c
       SET pending_parents = c.pending_parents - e.n,
           state = CASE WHEN c.state = 'pending' AND c.pending_parents - e.n <= 0 THEN 'ready' ELSE c.state END,
           resume_state = CASE WHEN c.state = 'suspended' AND c.resume_state = 'pending' AND c.pending_parents - e.n <= 0
                               THEN 'ready' ELSE c.resume_state END,
           run_at = CASE WHEN c.state = 'pending' AND c.pending_parents - e.n <= 0 THEN greatest(c.run_at, now()) ELSE c.run_at END
      FROM (SELECT edge.child_id, count(*) AS n
              FROM {schema}.task_edge edge JOIN f ON f.id = edge.parent_id
             WHERE f.state = 'completed' OR (f.state IN ('failed', 'expired') AND f.on_failure = 'continue')
             GROUP BY edge.child_id) e
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

  -- 3. Skip the branch below.
  UPDATE {schema}.task c
     SET state = 'cancelled', finished_at = now(),
         error = jsonb_build_object('message', 'skipped: a step it depends on did not complete', 'code', 'SKIPPED', 'attempt', c.attempt)
    FROM {schema}.task_edge e
    JOIN unnest(f_ids, f_states, f_policies) AS f(id, state, on_failure) ON f.id = e.parent_id
   WHERE c.id = e.child_id
     AND (f.state = 'cancelled' OR (f.state IN ('failed', 'expired') AND f.on_failure = 'skip-dependents'))
     AND (c.state = 'pending' OR (c.state = 'suspended' AND c.resume_state = 'pending'));

  -- 4. Complete processes with no unfinished step left.
  UPDATE {schema}.process p
     SET state = 'completed', finished_at = now()
   WHERE p.id = ANY(f_pids)
     AND p.state = 'running'
     AND NOT EXISTS (SELECT 1 FROM {schema}.task t
                      WHERE t.process_id = p.id AND t.state NOT IN ('completed', 'failed', 'cancelled', 'expired'));
  RETURN NULL;
END
$$;

-- Cancels every unfinished step of the given processes (process failed, cancelled or timed out);
-- running steps are aborted on their node through NOTIFY. Each cancellation is recorded.
CREATE FUNCTION {schema}.cancel_steps(process_ids bigint[], code text, message text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  IF process_ids IS NULL OR cardinality(process_ids) = 0 THEN
    RETURN;
  END IF;
  WITH prior AS (
    SELECT id, state FROM {schema}.task
     WHERE process_id = ANY(process_ids) AND state IN ('pending', 'ready', 'running', 'waiting', 'suspended')
       FOR UPDATE
  ), cancelled AS (
    UPDATE {schema}.task t
       SET state = 'cancelled', finished_at = now(), lease_expires_at = NULL,
           error = jsonb_build_object('message', message, 'code', code, 'attempt', t.attempt)
      FROM prior WHERE t.id = prior.id
    RETURNING t.id, prior.state AS prior_state
  ), events AS (
    INSERT INTO {schema}.task_event (task_id, kind, data)
    SELECT id, 'CANCELLED', jsonb_build_object('from', prior_state, 'cause', code) FROM cancelled
  )
  SELECT count(pg_notify('{schema}_abort', id::text)) INTO n FROM cancelled WHERE prior_state = 'running';
END
$$;

CREATE TRIGGER task_steps_finished
  AFTER UPDATE ON {schema}.task
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.steps_finished();
