-- Version 12: handoff. A worker that found nothing to claim offers a few of its slots; a single
-- enqueue that is due now then hands its task to such a worker inside the inserting statement
-- (inserted `running`, leased to the worker as its first attempt) and NOTIFYs the worker with
-- the row, so the handler starts without a claim statement. Measured on this kind of machine in
-- bare SQL (bench/c-floor.ts): enqueue → handler start falls from two commits in series (insert,
-- then claim) to one commit and a notification, about half the latency.
--
-- The offer is counted: `offer_slots` left, `handed` handed off in all. The enqueue takes one
-- slot under the worker row's lock (SKIP LOCKED: a concurrent enqueuer does not wait, its task
-- goes `ready` as before); the worker withdraws by zeroing `offer_slots`, and the `handed` it
-- reads back tells it exactly how many tasks it was given. `offer_epoch` marks the handoffs of
-- one offer: after the worker lost its LISTEN connection (and with it any notification in
-- flight) it starts a new epoch and hands back every task of the old one it did not receive.
ALTER TABLE {schema}.worker
  ADD COLUMN offer_slots integer NOT NULL DEFAULT 0,
  ADD COLUMN handed bigint NOT NULL DEFAULT 0,
  -- The NOTIFY channel the worker listens on for its handoffs.
  ADD COLUMN offer_channel text,
  -- The server process of the worker's LISTEN connection (null on PGlite, where the worker is in
  -- the database's own process). An enqueue hands off only while that process lives: a worker
  -- killed with its offer open gets nothing more as soon as its connection closes.
  ADD COLUMN offer_pid integer,
  -- The lease a handed-off task gets (the worker's leaseMs), as a claim would give it.
  ADD COLUMN offer_lease_ms integer,
  ADD COLUMN offer_epoch integer NOT NULL DEFAULT 0;

-- The few workers with an open offer: what every single enqueue looks up.
CREATE INDEX worker_offer_idx ON {schema}.worker (id) WHERE offer_slots > 0;

-- One task, the statement behind `enqueue` (named query TaskInsertOne): insert it, handed to an
-- offering worker when it is due now and `handoff` is on. PL/pgSQL, so its statements are
-- planned once per session: as one statement of five CTEs it was planned at every call on
-- PGlite (which prepares nothing), and a single enqueue took twice as long (measured: 3.7 against
-- 1.8 ms). Outputs are prefixed (o_*) so they never shadow the table's columns.
CREATE FUNCTION {schema}.insert_task(
  p_topic text, p_payload jsonb, p_priority integer, p_run_at timestamptz, p_delay_ms integer,
  p_max_attempts integer, p_backoff text, p_initial_ms integer, p_max_ms integer, p_jitter boolean,
  p_tags text[], p_key text, p_start_to_close_ms integer, p_heartbeat_ms integer,
  p_schedule_to_start_ms integer, p_schedule_to_close_ms integer, p_trace jsonb, p_handoff boolean)
RETURNS TABLE (o_id bigint, o_key text, o_run_at timestamptz, o_now timestamptz, o_state text, o_lease_owner text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  due timestamptz := coalesce(p_run_at, now() + coalesce(p_delay_ms, 0) * interval '1 millisecond');
  w_id text;
  w_channel text;
  w_lease_ms integer;
  w_epoch integer;
  t {schema}.task;
  msg text;
BEGIN
  IF p_handoff AND due <= now() THEN
    -- A worker of the topic (and tags) with an open offer whose LISTEN connection is alive (its
    -- server process exists; PGlite: in this process). SKIP LOCKED: a worker row another enqueue
    -- holds is passed over, and this task goes `ready`.
    SELECT w.id, w.offer_channel, w.offer_lease_ms, w.offer_epoch INTO w_id, w_channel, w_lease_ms, w_epoch
      FROM {schema}.worker w
     WHERE w.offer_slots > 0 AND w.state = 'running' AND p_topic = ANY(w.topics)
       AND (p_tags = '{}' OR w.tags && p_tags)
       AND (w.offer_pid IS NULL OR EXISTS (SELECT 1 FROM pg_stat_get_activity(w.offer_pid)))
     LIMIT 1
       FOR UPDATE SKIP LOCKED;
  END IF;
  INSERT INTO {schema}.task (topic, state, payload, priority, run_at, max_attempts,
      backoff, backoff_initial_ms, backoff_max_ms, backoff_jitter, tags, key,
      start_to_close_ms, heartbeat_timeout_ms, schedule_to_start_ms, schedule_to_close_ms, deadline_at, trace,
      attempt, lease_token, lease_owner, lease_expires_at, attempted_at, heartbeat_at, started_at)
  VALUES (p_topic, CASE WHEN w_id IS NULL THEN 'ready' ELSE 'running' END, p_payload, p_priority, due, p_max_attempts,
      p_backoff, p_initial_ms, p_max_ms, p_jitter, p_tags, p_key,
      p_start_to_close_ms, p_heartbeat_ms, p_schedule_to_start_ms, p_schedule_to_close_ms,
      due + p_schedule_to_close_ms * interval '1 millisecond', p_trace,
      -- As TaskClaim leases a claimed task: the first attempt, token 1.
      CASE WHEN w_id IS NULL THEN 0 ELSE 1 END, CASE WHEN w_id IS NULL THEN 0 ELSE 1 END, w_id,
      now() + coalesce(p_heartbeat_ms, w_lease_ms) * interval '1 millisecond',
      CASE WHEN w_id IS NOT NULL THEN now() END, CASE WHEN w_id IS NOT NULL THEN now() END, CASE WHEN w_id IS NOT NULL THEN now() END)
  ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING
  RETURNING * INTO t;
  -- The key exists: no task, and no slot taken.
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF w_id IS NOT NULL THEN
    UPDATE {schema}.worker SET offer_slots = offer_slots - 1, handed = handed + 1 WHERE id = w_id;
    -- The columns of TaskClaim's answer (a plain task: no process input, no parents); only the id
    -- past NOTIFY's 8,000-byte limit (the worker reads it with TaskHandedOff).
    msg := json_build_object(
      'id', t.id::text, 'topic', t.topic, 'payload', t.payload, 'priority', t.priority, 'attempt', t.attempt,
      'max_attempts', t.max_attempts, 'tags', t.tags, 'key', t.key, 'lease_token', t.lease_token,
      'created_ms', (extract(epoch FROM t.created_at) * 1000)::float8,
      'start_to_close_ms', t.start_to_close_ms, 'heartbeat_timeout_ms', t.heartbeat_timeout_ms,
      'deadline_ms', (extract(epoch FROM t.deadline_at) * 1000)::float8, 'trace', t.trace, 'epoch', w_epoch)::text;
    IF octet_length(msg) >= 7900 THEN
      msg := json_build_object('id', t.id::text, 'epoch', w_epoch, 'fetch', true)::text;
    END IF;
    PERFORM pg_notify(w_channel, msg);
  ELSIF due <= now() THEN
    PERFORM pg_notify('{schema}_ready', p_topic);
  END IF;
  o_id := t.id; o_key := t.key; o_run_at := t.run_at; o_now := now(); o_state := t.state; o_lease_owner := t.lease_owner;
  RETURN NEXT;
END
$$;
