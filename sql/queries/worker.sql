-- Named queries on {schema}.worker (the workers registry) and {schema}.leader.

-- name: WorkerRegister
-- A worker starting under an id that ran before (the `id` option) starts without an offer; the
-- `handed` it reads back counts the handoffs of its earlier runs, none of which are its own.
INSERT INTO {schema}.worker (id, host, pid, topics, tags, concurrency)
VALUES ($1, $2, $3, $4::text[], $5::text[], $6)
ON CONFLICT (id) DO UPDATE
   SET state = 'running', last_seen_at = now(), stopped_at = NULL, topics = EXCLUDED.topics, tags = EXCLUDED.tags,
       concurrency = EXCLUDED.concurrency, offer_slots = 0
RETURNING handed;

-- name: WorkerOffer
-- Opens or tops up the worker's offer of handoffs by $2 slots, for epoch $3, on channel $4, while
-- its LISTEN connection is server process $5 (null: PGlite); handed-off tasks get a lease of $6 ms.
-- Answers nothing when the worker is no longer running (stopped, or marked lost).
UPDATE {schema}.worker
   SET offer_slots = offer_slots + $2, offer_epoch = $3, offer_channel = $4, offer_pid = $5, offer_lease_ms = $6
 WHERE id = $1 AND state = 'running'
RETURNING offer_slots, handed;

-- name: WorkerProbe
-- A notification a worker sends to its own handoff channel: it offers nothing before this comes
-- back (behind a pooler in transaction mode it never does, and the worker only claims).
SELECT pg_notify($1, $2);

-- name: WorkerWithdraw
-- Closes the worker's offer. Waits for the enqueues that hold the worker's row (their handoffs
-- commit first), so `handed` counts every task the worker was given and no more will come.
UPDATE {schema}.worker SET offer_slots = 0 WHERE id = $1 RETURNING handed;

-- name: WorkerSeen
-- A worker's liveness beat, with how many tasks it runs. A worker that was marked lost (it froze
-- longer than the limit) and comes back is running again.
-- Answers the offer's counts (a worker marked lost had its offer closed without knowing).
UPDATE {schema}.worker SET last_seen_at = now(), running = $2, state = 'running'
 WHERE id = $1 AND state <> 'stopped'
RETURNING offer_slots, handed;

-- name: WorkerStopped
UPDATE {schema}.worker SET state = 'stopped', stopped_at = now(), running = 0, offer_slots = 0 WHERE id = $1;

-- name: WorkerMarkLost
-- Workers not seen for $1 ms are lost (crashed, killed, partitioned). Their leases expire on
-- their own; this only keeps the registry true for operators, and closes their offers.
UPDATE {schema}.worker SET state = 'lost', offer_slots = 0
 WHERE state = 'running' AND last_seen_at < now() - $1::integer * interval '1 millisecond'
RETURNING id, host, pid;

-- name: WorkerPrune
-- Forgets workers that stopped or were lost more than $1 ms ago.
DELETE FROM {schema}.worker
 WHERE state <> 'running' AND coalesce(stopped_at, last_seen_at) < now() - $1::integer * interval '1 millisecond';

-- name: WorkerList
SELECT * FROM {schema}.worker ORDER BY state, started_at DESC;

-- name: LeaderAcquire
-- Takes or keeps leadership $1 for node $2 for $3 ms: granted when nobody holds it, when this
-- node already does (renewal), or when the holder's term ran out. One statement, so two nodes
-- can never both be granted the same term.
INSERT INTO {schema}.leader AS l (name, node, expires_at)
VALUES ($1, $2, now() + $3::integer * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE
   SET node = EXCLUDED.node,
       expires_at = EXCLUDED.expires_at,
       elected_at = CASE WHEN l.node = EXCLUDED.node THEN l.elected_at ELSE now() END
 WHERE l.node = EXCLUDED.node OR l.expires_at < now()
RETURNING node;

-- name: LeaderResign
DELETE FROM {schema}.leader WHERE name = $1 AND node = $2;

-- name: LeaderGet
SELECT node, elected_at, expires_at FROM {schema}.leader WHERE name = $1;
