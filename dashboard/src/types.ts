/** Shapes of the API's answers, as JSON (dates are ISO strings, ids strings). */

export type Scope = "work" | "start" | "read" | "admin";

export type TaskState = "pending" | "ready" | "running" | "waiting" | "suspended" | "completed" | "failed" | "cancelled" | "expired";

export const taskStates: TaskState[] = ["pending", "ready", "running", "waiting", "suspended", "completed", "failed", "cancelled", "expired"];
export const terminalStates: TaskState[] = ["completed", "failed", "cancelled", "expired"];

export type ProcessState = "running" | "completed" | "failed" | "cancelled" | "timed_out" | "suspended";
export const processStates: ProcessState[] = ["running", "suspended", "completed", "failed", "cancelled", "timed_out"];

export interface TaskError {
  message: string;
  name?: string;
  stack?: string;
  code?: string;
  businessCode?: string;
  attempt: number;
}

export interface Task {
  id: string;
  topic: string;
  state: TaskState;
  payload: unknown;
  result: unknown;
  error: TaskError | null;
  attempt: number;
  maxAttempts: number;
  priority: number;
  runAt: string;
  tags: string[];
  key: string | null;
  processId: string | null;
  step: string | null;
  progress?: unknown;
  workerId?: string | null;
  heartbeatAt?: string | null;
  /** When the latest attempt started (not in every server's API yet). */
  attemptedAt?: string | null;
  leaseExpiresAt?: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TaskAttempt {
  attempt: number;
  workerId: string | null;
  startedAt: string | null;
  finishedAt: string;
  outcome: string;
  error: TaskError | null;
}

export interface TaskEvent {
  id: string;
  kind: string;
  actor: string | null;
  data: unknown;
  at: string;
}

export interface TaskDetail extends Task {
  attempts: TaskAttempt[];
  events: TaskEvent[];
}

export interface TaskPage {
  tasks: Task[];
  nextCursor: string | null;
  /** With a search (servers that bound the search's scan): what this page searched. */
  search?: {
    /** Tasks on this page found through an index (the id, the start of a key), anywhere. */
    indexed: number;
    /** The text scan read every task below the cursor down to this id; null when it did not run. */
    scannedTo: string | null;
    /** The scan stopped at its bound with older tasks unread: `nextCursor` searches them. */
    bounded: boolean;
  };
}

export interface Step {
  name: string;
  taskId: string;
  topic: string;
  state: TaskState;
  dependsOn: string[];
  attempt: number;
  maxAttempts: number;
  result: unknown;
  error: TaskError | null;
  runAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  why: string | null;
}

export interface Process {
  id: string;
  key: string | null;
  name: string;
  state: ProcessState;
  input: unknown;
  output: Record<string, unknown> | null;
  error: { message: string; step?: string; taskId?: string; code?: string } | null;
  deadlineAt: string | null;
  createdAt: string;
  finishedAt: string | null;
  steps: Step[];
}

export interface ProcessPage {
  processes: Process[];
  nextCursor: string | null;
}

export interface Worker {
  id: string;
  host: string;
  pid: number;
  topics: string[];
  tags: string[];
  concurrency: number;
  state: "running" | "stopped" | "lost";
  running: number;
  startedAt: string;
  lastSeenAt: string;
  stoppedAt: string | null;
}

export interface Stats {
  tasks: Record<TaskState, number>;
  completedEstimated: boolean;
  topics: Record<string, Partial<Record<TaskState, number>>>;
  processes: Record<string, number>;
  at: string;
}

export interface ScheduleRun {
  tickAt: string;
  taskId: string;
  state: TaskState | null;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: TaskError | null;
}

export interface ScheduleEvent {
  id: string;
  kind: string;
  tickAt: string | null;
  taskId: string | null;
  actor: string | null;
  data: unknown;
  at: string;
}

export interface Schedule {
  name: string;
  cron: string;
  timezone: string;
  topic: string;
  payload: unknown;
  tags: string[] | null;
  checkinMarginMs: number;
  maxRuntimeMs: number | null;
  overlap: string;
  backfill: boolean;
  maxRuns: number | null;
  maxConsecutiveFailures: number | null;
  enabled: boolean;
  origin: "code" | "api";
  nextRunAt: string | null;
  lastTickAt: string | null;
  lastTaskId: string | null;
  runs: number;
  consecutiveFailures: number;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
  nextRuns: string[];
  recentRuns: ScheduleRun[];
  events?: ScheduleEvent[];
}

/**
 * One operator action, as `GET /api/v1/events` answers it (the audit log): newest first, with
 * what it acted on.
 */
export interface AuditEvent {
  id: string;
  at: string;
  actor: string | null;
  kind: string;
  taskId?: string | null;
  processId?: string | null;
  schedule?: string | null;
  data?: unknown;
}

export interface AuditPage {
  events: AuditEvent[];
  nextCursor: string | null;
}
