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
