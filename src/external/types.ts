/**
 * What the external-task operations take and return: a task as a remote worker sees it, and the
 * options of each operation.
 *
 * @module
 */
import type { TaskError, TaskState } from "../task.js";

/**
 * A task as the external-task API shows it to remote workers and operators. Ids are strings
 * (PostgreSQL `bigint`).
 */
export interface ExternalTask {
  id: string;
  topic: string;
  state: TaskState;
  payload: unknown;
  priority: number;
  /** Attempts started so far (the running one included). */
  attempt: number;
  maxAttempts: number;
  /** The worker that holds the lock while `running`; the last one otherwise (null: none yet). */
  workerId: string | null;
  /** When the lock ends (null unless `running`). */
  lockExpiresAt: Date | null;
  /** The idempotency key of the task. */
  key: string | null;
  processId: string | null;
  /** The key (customId) of the task's process. */
  processKey: string | null;
  /** The name of the task's process. */
  processName: string | null;
  step: string | null;
  /** The latest failure (kept while the task is retried). */
  error: TaskError | null;
  result: unknown;
  createdAt: Date;
  /** fetchAndLock answers, process steps only: the process input. */
  processInput?: unknown;
  /** fetchAndLock answers, process steps only: the results of its completed parents, oldest first. */
  parentResults?: unknown[];
}

/** One topic of {@link FetchAndLockOptions.topics} with its own lock and filters. */
export interface FetchTopic {
  topic: string;
  /** Lock duration of this topic's tasks in ms (default: the call's `lockDurationMs`). */
  lockDurationMs?: number;
  /** Only tasks whose process key (or, for a plain task, whose key) is this. */
  businessKey?: string;
  /** Only steps of processes with one of these names. */
  processNames?: string[];
}

/** Options of {@link ExternalTasks.fetchAndLock}. */
export interface FetchAndLockOptions {
  /** Who locks the tasks: every later call about them must come with this id. */
  workerId: string;
  /** Topic names, or topics with their own lock duration and filters. Any topic can be fetched: no handler needs to be defined. */
  topics: (string | FetchTopic)[];
  /** Most tasks to lock (default 10, at most 1000; 0 answers at once with none). */
  maxTasks?: number;
  /** Lock duration in ms for topics that do not set theirs (default 30,000). */
  lockDurationMs?: number;
  /**
   * When no task is ready: wait up to this many ms for one (long polling; default 0, at most
   * 1,800,000). Wakes on a task made ready on any node sharing the database.
   */
  longPollMs?: number;
  /** Only untagged tasks and tasks with one of these tags; omitted: tags are not looked at. */
  tags?: string[];
  /** Ends a long poll early (the HTTP client went away); tasks locked after it aborted are unlocked. */
  signal?: AbortSignal;
}

/** A failure reported by a remote worker ({@link ExternalTasks.fail}). */
export interface ExternalFailure {
  message: string;
  /** Anything that helps an operator (a stack trace, a JSON object). */
  details?: unknown;
  /** The worker's own error code (5Minds `errorCode`). */
  errorCode?: string;
  /**
   * Attempts that remain (Camunda `retries`): 0 fails the task; n > 0 makes it ready again after
   * `retryTimeoutMs` with n attempts left. Omitted: the task's own retry policy decides.
   */
  retries?: number;
  /** Delay before the retry in ms (Camunda `retryTimeout`); omitted: the task's backoff. */
  retryTimeoutMs?: number;
}

/** Filters of {@link ExternalTasks.list} and {@link ExternalTasks.count}. Flags apply when true. */
export interface ExternalTaskFilter {
  topic?: string;
  /** Tasks locked by this worker. */
  workerId?: string;
  /** Only tasks with a lock that has not expired. */
  locked?: boolean;
  /** Only tasks without a live lock. */
  notLocked?: boolean;
  /** Only tasks that have not failed. */
  withRetriesLeft?: boolean;
  /** Only failed tasks (Camunda incidents). */
  noRetriesLeft?: boolean;
  /** Only tasks that are not suspended. */
  active?: boolean;
  suspended?: boolean;
  priorityAtLeast?: number;
  priorityAtMost?: number;
  ids?: string[];
  processIds?: string[];
  /** The step name (the topic for a plain task). */
  step?: string;
}

/** Sorting and paging of {@link ExternalTasks.list}. */
export interface ExternalTaskPage {
  sortBy?: "id" | "priority" | "createTime" | "lockExpirationTime" | "processInstanceId";
  descending?: boolean;
  /** Rows to skip (default 0). */
  offset?: number;
  /** Rows to return (default 100, at most 1000). */
  limit?: number;
}

/** Converts a row of the external queries to an {@link ExternalTask}. */
export function externalTaskFromRow(row: Record<string, unknown>): ExternalTask {
  const task: ExternalTask = {
    id: String(row.id),
    topic: row.topic as string,
    state: row.state as TaskState,
    payload: row.payload ?? null,
    priority: Number(row.priority),
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    workerId: (row.lease_owner as string | null) ?? null,
    lockExpiresAt: row.state === "running" ? ((row.lease_expires_at as Date | null) ?? null) : null,
    key: (row.key as string | null) ?? null,
    processId: row.process_id == null ? null : String(row.process_id),
    processKey: (row.process_key as string | null) ?? null,
    processName: (row.process_name as string | null) ?? null,
    step: (row.step as string | null) ?? null,
    error: (row.error ?? null) as TaskError | null,
    result: row.result ?? null,
    createdAt: row.created_at as Date,
  };
  if (row.process_id != null && "process_input" in row) {
    task.processInput = row.process_input ?? null;
    task.parentResults = (row.parent_results as unknown[] | null) ?? [];
  }
  return task;
}
