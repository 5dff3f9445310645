-- Version 10: indexes for the task list's search and topic filter (docs/dashboard.md).

-- Key prefixes: a search finds the tasks whose key starts with its text anywhere in the table as
-- one range of this index (`key >= text AND key < the next string`). Byte order (COLLATE "C"),
-- so a prefix is one range whatever the database's collation; task_key_idx has the database's
-- collation and only serves equality. Only rows with a key enter it.
CREATE INDEX task_key_prefix_idx ON {schema}.task (key COLLATE "C") WHERE key IS NOT NULL;

-- No (topic, id) index for the topic filter: a claim and a completion each write a new row
-- version into every index of the table, so an index on all tasks costs every task two entries
-- (an UPDATE of 100,000 rows: 0.87 s without it, 1.41 s with it and the index above), while a
-- topic with 1 task in 10,000 lists in 150 ms at 1m tasks without it.

-- The two reads of a search that must stop early, as functions with pinned plans (as claim_ids in
-- version 8): without statistics (PGlite never gets autovacuum) the planner read every row of the
-- table and sorted it (the window: 190 ms at 200k tasks, against a few walking the primary key),
-- and a bitmap scan of the key index does not stop at the LIMIT.

-- Ids of tasks whose key is in [lo, hi) in byte order (starts with lo when hi is its successor),
-- below below_id, at most max_rows of them, walking task_key_prefix_idx.
CREATE FUNCTION {schema}.task_key_prefix_ids(lo text, hi text, below_id bigint, max_rows integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE
ROWS 1000
SET enable_bitmapscan = off
SET enable_seqscan = off
SET enable_sort = off
AS $$
  SELECT id FROM {schema}.task
   WHERE key IS NOT NULL AND key COLLATE "C" >= lo AND key COLLATE "C" < hi AND id < below_id
   ORDER BY key COLLATE "C"
   LIMIT max_rows
$$;

-- The window of a search's bounded scan: the max_rows newest tasks below below_id, read from the
-- primary key alone; its oldest id and how many there are (fewer than max_rows: it reaches the
-- oldest task).
CREATE FUNCTION {schema}.task_search_window(below_id bigint, max_rows integer)
RETURNS TABLE (floor_id bigint, tasks integer)
LANGUAGE sql STABLE
SET enable_bitmapscan = off
SET enable_seqscan = off
SET enable_sort = off
AS $$
  SELECT min(id), count(*)::integer
    FROM (SELECT id FROM {schema}.task WHERE id < below_id ORDER BY id DESC LIMIT max_rows) AS w
$$;
