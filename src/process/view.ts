/**
 * The whole picture of a process, as `getProcess` returns it: every step with its state,
 * attempts, timings, result or error, and for a step that is not running, why.
 *
 * @module
 */
import { taskFromRow, type Task, type TaskError } from "../task.js";

/** Where a process is in its life. */
export type ProcessState = "running" | "completed" | "failed" | "cancelled" | "timed_out" | "suspended";

/** One step of a process. */
export interface StepView {
  name: string;
  taskId: string;
  topic: string;
  state: Task["state"];
  dependsOn: string[];
  attempt: number;
  maxAttempts: number;
  result: unknown;
  error: TaskError | null;
  runAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** For a step that is not running: why (waiting on which parents, which event, delayed until, suspended by whom, …). */
  why: string | null;
}

/** A process with its steps. */
export interface ProcessView {
  id: string;
  key: string | null;
  name: string;
  state: ProcessState;
  input: unknown;
  /** `{ step: result }` of the steps marked `output`, else of the final steps (those nothing depends on). */
  output: Record<string, unknown> | null;
  error: { message: string; step?: string; taskId?: string; code?: string } | null;
  deadlineAt: Date | null;
  createdAt: Date;
  finishedAt: Date | null;
  steps: StepView[];
}

type Row = Record<string, unknown>;

/** Builds the view from the process row, its step rows, its edges and the steps' events. */
export function processFromRows(row: Row, stepRows: Row[], edges: Row[], events: Row[]): ProcessView {
  const byId = new Map(stepRows.map((r) => [String(r.id), r]));
  const parentsOf = new Map<string, string[]>();
  const hasChildren = new Set<string>();
  for (const e of edges) {
    const child = String(e.child_id);
    const parent = String(e.parent_id);
    parentsOf.set(child, [...(parentsOf.get(child) ?? []), parent]);
    hasChildren.add(parent);
  }
  const suspendedBy = new Map<string, string | null>();
  for (const e of events) if (e.kind === "SUSPENDED") suspendedBy.set(String(e.task_id), (e.actor as string | null) ?? null);

  const steps: StepView[] = stepRows.map((r) => {
    const t = taskFromRow(r);
    const parents = (parentsOf.get(t.id) ?? []).map((p) => byId.get(p)!).filter(Boolean);
    return {
      name: t.step ?? t.id,
      taskId: t.id,
      topic: t.topic,
      state: t.state,
      dependsOn: parents.map((p) => p.step as string),
      attempt: t.attempt,
      maxAttempts: t.maxAttempts,
      result: t.result,
      error: t.error,
      runAt: t.runAt,
      startedAt: t.startedAt,
      finishedAt: t.finishedAt,
      why: why(t, r, parents, suspendedBy.get(t.id)),
    };
  });
  const marked = stepRows.filter((r) => r.is_output === true);
  const outputRows = marked.length ? marked : stepRows.filter((r) => !hasChildren.has(String(r.id)));
  const done = row.state === "completed";
  return {
    id: String(row.id),
    key: (row.key as string | null) ?? null,
    name: row.name as string,
    state: row.state as ProcessState,
    input: row.input ?? null,
    output: done && stepRows.length ? Object.fromEntries(outputRows.map((r) => [r.step as string, r.result ?? null])) : null,
    error: (row.error ?? null) as ProcessView["error"],
    deadlineAt: (row.deadline_at as Date | null) ?? null,
    createdAt: row.created_at as Date,
    finishedAt: (row.finished_at as Date | null) ?? null,
    steps,
  };
}

function why(t: Task, r: Row, parents: Row[], suspendedBy: string | null | undefined): string | null {
  switch (t.state) {
    case "pending": {
      const open = parents.filter((p) => p.state !== "completed").map((p) => `"${p.step}"`);
      return `waiting for ${open.length ? open.join(", ") : "its parents"} to finish`;
    }
    case "ready":
      return t.runAt.getTime() > Date.now() ? `delayed until ${t.runAt.toISOString()}` : `queued: no worker of topic "${t.topic}" has taken it yet`;
    case "waiting":
      return `waiting for event "${r.wait_event}"${r.wait_until ? ` until ${(r.wait_until as Date).toISOString()}` : ""}`;
    case "suspended":
      return `suspended by ${suspendedBy ?? "an operator"}`;
    case "running":
    case "completed":
      return null;
    default:
      return t.error?.message ?? t.state;
  }
}
