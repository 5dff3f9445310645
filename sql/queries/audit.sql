-- The audit log (`listEvents`, `GET /events`): the events of tasks and processes and the events of
-- schedules, two streams each read newest first and keyset-paginated on its own id ($2: the
-- last id of the stream on the previous page, or the largest bigint), merged by time in code.
-- With $1, operator actions only (an actor is recorded).

-- name: AuditTaskEvents
SELECT e.*, t.topic
  FROM {schema}.task_event e LEFT JOIN {schema}.task t ON t.id = e.task_id
 WHERE (NOT $1::boolean OR e.actor IS NOT NULL)
   AND e.id < $2
 ORDER BY e.id DESC
 LIMIT $3;

-- name: AuditScheduleEvents
SELECT id, schedule, kind, actor, data, at, task_id
  FROM {schema}.schedule_event
 WHERE (NOT $1::boolean OR actor IS NOT NULL)
   AND id < $2
 ORDER BY id DESC
 LIMIT $3;
