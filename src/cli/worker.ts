/**
 * `tasklane worker`: runs the handlers a module exports, as a worker process. Graceful shutdown
 * on SIGTERM/SIGINT (stop claiming, let running tasks finish within the grace period, hand the
 * rest back), a second signal ends the process at once. On a terminal it keeps one live line of
 * progress: tasks claimed, completed and failed per second.
 *
 * The module exports `tasks` (or a default export of the same shape): topic → handler, or
 * topic → `{ handler, …define options }`; optionally `schedules`: name → schedule options.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Tasklane, type OpenOptions } from "../tasklane.js";
import type { Logger } from "../logger.js";
import { UsageError, type CliEnv, type Output } from "./io.js";
import { databaseSetting, schemaSetting, setting } from "./settings.js";

/** `parseArgs` options of `tasklane worker`. */
export const workerArgs = {
  tasks: { type: "string" },
  database: { type: "string" },
  schema: { type: "string" },
  concurrency: { type: "string" },
  tag: { type: "string", multiple: true },
  "grace-ms": { type: "string" },
  "lease-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Usage text of `tasklane worker`. */
export const workerUsage = `Usage: tasklane worker --tasks FILE [--concurrency N] [--tag T …] [--database URL] [--schema S] [--grace-ms MS]

Runs the handlers that FILE exports (export const tasks = { "topic": handler, … }, and
optionally schedules) until SIGTERM or SIGINT; a second signal stops at once.

Options:
  --tasks FILE     module exporting the task definitions (a compiled .js file, or .ts under tsx)
  --concurrency N  handlers running at once (env TASKLANE_CONCURRENCY; default 10)
  --tag T          claim tasks tagged T (repeatable); untagged tasks are always claimed
  --database URL   postgres://… (env DATABASE_URL; an embedded database belongs to one process)
  --schema S       PostgreSQL schema of Tasklane's tables (env TASKLANE_SCHEMA; default tasklane)
  --grace-ms MS    how long running tasks may finish after a stop signal (default 30000)
  --lease-ms MS    lease of each task: how soon another worker re-runs it if this process dies
                   (default 30000)
`;

/** Resolved settings of `tasklane worker`. */
export interface WorkerSettings {
  tasks: string;
  database: string;
  schema: string | undefined;
  concurrency: number;
  tags: string[];
  graceMs: number;
  leaseMs: number;
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${name} must be a positive integer, got "${text}"`);
  return Number(text);
}

/** Resolves flags and environment into {@link WorkerSettings}. */
export function workerSettings(values: { tasks?: string; database?: string; schema?: string; concurrency?: string; tag?: string[]; "grace-ms"?: string; "lease-ms"?: string }, env: CliEnv): WorkerSettings {
  if (!values.tasks) throw new UsageError("--tasks FILE is required: the module that exports your task definitions");
  return {
    tasks: values.tasks,
    database: databaseSetting(values.database, env),
    schema: schemaSetting(values.schema, env),
    concurrency: positiveInt("--concurrency", values.concurrency ?? setting("concurrency", undefined, env, "TASKLANE_CONCURRENCY")?.value, 10),
    tags: values.tag ?? [],
    graceMs: positiveInt("--grace-ms", values["grace-ms"], 30_000),
    leaseMs: positiveInt("--lease-ms", values["lease-ms"], 30_000),
  };
}

/** Loads the definitions module. */
async function loadDefinitions(file: string): Promise<Pick<OpenOptions, "tasks" | "schedules">> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  const source = (mod.tasks ? mod : (mod.default as Record<string, unknown> | undefined)) ?? {};
  const tasks = source.tasks as OpenOptions["tasks"];
  if (!tasks || typeof tasks !== "object" || Object.keys(tasks).length === 0) {
    throw new UsageError(`${file} exports no tasks: export const tasks = { "topic": async (task, ctx) => { … } }`);
  }
  return { tasks, schedules: source.schedules as OpenOptions["schedules"] };
}

/**
 * Runs the worker until `stop` aborts.
 *
 * @returns the exit code (0 after a graceful stop).
 */
export async function workerCommand(settings: WorkerSettings, out: Output, stop: AbortSignal, logger?: Logger, tty = false): Promise<number> {
  const definitions = await loadDefinitions(settings.tasks);
  const tl = await Tasklane.open({
    database: settings.database,
    ...(settings.schema && { schema: settings.schema }),
    ...(logger && { logger }),
    ...definitions,
    worker: { concurrency: settings.concurrency, leaseMs: settings.leaseMs, ...(settings.tags.length && { tags: settings.tags }) },
  });
  const counts = { claimed: 0, completed: 0, failed: 0 };
  tl.on("task:started", () => counts.claimed++);
  tl.on("task:completed", () => counts.completed++);
  tl.on("task:failed", () => counts.failed++);
  out.write(`Tasklane worker ${tl.defaultWorker!.id} running ${tl.topics().join(", ")} (concurrency ${settings.concurrency})\n`);
  let progress: NodeJS.Timeout | undefined;
  if (tty) {
    let last = { ...counts };
    progress = setInterval(() => {
      const line = `claimed ${counts.claimed - last.claimed}/s  completed ${counts.completed - last.completed}/s  failed ${counts.failed - last.failed}/s  running ${tl.defaultWorker!.running}`;
      out.write(`\r\x1b[2K${line}`);
      last = { ...counts };
    }, 1_000);
  }
  await new Promise<void>((done) => {
    if (stop.aborted) done();
    else stop.addEventListener("abort", () => done(), { once: true });
  });
  clearInterval(progress);
  out.write(`${tty ? "\n" : ""}stopping: waiting up to ${settings.graceMs} ms for ${tl.defaultWorker!.running} running task(s)\n`);
  await tl.close({ graceMs: settings.graceMs });
  out.write(`stopped: ${counts.completed} completed, ${counts.failed} failed\n`);
  return 0;
}
