-- The task list's search (`listTasks({ search })`, `GET /tasks?search=`), in two parts so that
-- every request costs a bounded amount of work however many tasks there are (docs/dashboard.md):
--
-- 1. Index matches, found anywhere in the table: the task whose id is the text (primary key) and
--    the tasks whose key starts with it (task_key_prefix_idx), when they are at most a thousand.
-- 2. Text matches from a bounded scan: topic, key or error message containing the text (any
--    case), among at most N tasks per request, newest first; the cursor continues below them.
--
-- Ids below a cursor are passed as `id < $n` with the largest bigint for "no cursor", never as
-- `$n IS NULL OR id < $n`, so a generic plan keeps the bound as an index condition.

-- name: TaskSearchKeyPrefix
-- Ids of tasks whose key starts with the search text (exact case): the range $1 <= key < $2 of
-- task_key_prefix_idx in byte order, below the cursor $3, at most $4 of them (one more than the
-- caller lists, so it can tell a prefix that is too common to list). A function with a pinned
-- plan (migration 0010) that walks the index and stops at $4.
SELECT id FROM {schema}.task_key_prefix_ids($1, $2, $3, $4) AS id;

-- name: TaskSearchHits
-- The tasks among the ids $1 (found through indexes) that pass the filters, newest first below $7.
SELECT * FROM {schema}.task
 WHERE id = ANY($1::bigint[])
   AND ($2::text IS NULL OR state = $2)
   AND ($3::text IS NULL OR topic = $3)
   AND ($4::text IS NULL OR $4 = ANY(tags))
   AND ($5::timestamptz IS NULL OR created_at >= $5)
   AND ($6::timestamptz IS NULL OR created_at < $6)
   AND id < $7
 ORDER BY id DESC
 LIMIT $8;

-- name: TaskSearchWindow
-- The bounded scan's window: the $2 newest tasks below $1, read from the primary key alone. Its
-- oldest id (`floor`) and how many there are (`n` < $2: the window reaches the oldest task).
SELECT floor_id AS floor, tasks AS n FROM {schema}.task_search_window($1, $2);

-- name: TaskSearchScan
-- Text matches in the window ($7 <= id < $6), newest first: a walk of the primary key (or of an
-- index of the state or topic filter) that never leaves the window. Leaves out what part 1
-- listed: the task of id $9, and keys in the range [$10, $11) when $10 is given.
SELECT * FROM {schema}.task
 WHERE id < $6 AND id >= $7
   AND ($1::text IS NULL OR state = $1)
   AND ($2::text IS NULL OR topic = $2)
   AND ($3::text IS NULL OR $3 = ANY(tags))
   AND ($4::timestamptz IS NULL OR created_at >= $4)
   AND ($5::timestamptz IS NULL OR created_at < $5)
   AND (topic ILIKE $8 OR key ILIKE $8 OR error->>'message' ILIKE $8)
   AND id <> $9
   AND ($10::text IS NULL OR key IS NULL OR key COLLATE "C" < $10 OR key COLLATE "C" >= $11)
 ORDER BY id DESC
 LIMIT $12;
