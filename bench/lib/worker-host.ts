/**
 * Drives the worker side of B and C from the producer: in a child process (PostgreSQL) or in
 * this process (PGlite). Messages from the worker are queued so the producer can wait for them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Tasklane } from "./library.js";
import type { QueryStats } from "./query-stats.js";
import { workerSide, type WorkerCommand, type WorkerMessage, type WorkerSideConfig } from "./worker-side.js";

const WORKER_SCRIPT = fileURLToPath(new URL("../worker-process.ts", import.meta.url));

export interface WorkerHost {
  /** Sends a command. */
  send(c: WorkerCommand): void;
  /** Resolves with the next message of that type (or one already received and not yet taken). */
  next<T extends WorkerMessage["type"]>(type: T, timeoutMs?: number): Promise<Extract<WorkerMessage, { type: T }>>;
  /** Every `start` message goes here instead of the queue (scenario C). */
  onStart(fn: (i: number, t: number) => void): void;
  /** Stops the worker and waits for its outcomes to be written; resolves with the handler count. */
  stop(): Promise<number>;
  /** The worker's statement statistics (TASKLANE_BENCH_QUERY_STATS=1, worker in its own process). */
  queryStats?: QueryStats;
  /** Kills a child that is still running (cleanup after an error). */
  kill(): void;
}

function makeQueue() {
  const queued: WorkerMessage[] = [];
  const waiters: { type: string; resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }[] = [];
  let onStart: ((i: number, t: number) => void) | undefined;
  let failed: Error | undefined;
  return {
    push(m: WorkerMessage) {
      if (m.type === "start" && onStart) return onStart(m.i, m.t);
      if (m.type === "error") {
        failed = new Error(`worker: ${m.message}`);
        for (const w of waiters.splice(0)) w.reject(failed);
        return;
      }
      const w = waiters.findIndex((x) => x.type === m.type);
      if (w >= 0) waiters.splice(w, 1)[0]!.resolve(m);
      else queued.push(m);
    },
    fail(err: Error) {
      failed ??= err;
      for (const w of waiters.splice(0)) w.reject(failed);
    },
    setOnStart(fn: (i: number, t: number) => void) {
      onStart = fn;
    },
    next<T extends WorkerMessage["type"]>(type: T, timeoutMs = 120_000): Promise<Extract<WorkerMessage, { type: T }>> {
      if (failed) return Promise.reject(failed);
      const i = queued.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queued.splice(i, 1)[0] as Extract<WorkerMessage, { type: T }>);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => (clearTimeout(timer), resolve(m as Extract<WorkerMessage, { type: T }>)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
      });
    },
  };
}

/** A worker in its own Node process (`node --import tsx bench/worker-process.ts`). */
export async function childWorker(url: string, schema: string, worker: WorkerSideConfig): Promise<WorkerHost> {
  const q = makeQueue();
  // TASKLANE_BENCH_WORKER_NODE_ARGS: extra Node flags for the worker, e.g. "--cpu-prof --cpu-prof-dir=prof".
  const extra = (process.env.TASKLANE_BENCH_WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...extra, "--import", "tsx", WORKER_SCRIPT, JSON.stringify({ url, schema, worker })], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.on("message", (m: WorkerMessage) => q.push(m));
  const exited = new Promise<void>((resolve) =>
    child.on("exit", (code, signal) => {
      if (code !== 0) q.fail(new Error(`worker process exited (code ${code}, signal ${signal})`));
      resolve();
    }),
  );
  await q.next("opened", 60_000);
  const host: WorkerHost = {
    send: (c) => child.send(c),
    next: q.next,
    onStart: q.setOnStart,
    async stop() {
      child.send({ cmd: "stop" });
      const { handled, queryStats } = await q.next("stopped", 60_000);
      if (queryStats) host.queryStats = queryStats;
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      return handled;
    },
    kill: () => void (child.exitCode === null && child.kill("SIGKILL")),
  };
  return host;
}

/** A worker on `tl` in this process (PGlite: the process that owns the database). */
export async function inProcessWorker(tl: Tasklane, worker: WorkerSideConfig): Promise<WorkerHost> {
  const q = makeQueue();
  // Deliver like IPC would: asynchronously, never inside the handler's own turn.
  const handle = workerSide(tl, worker, (m) => queueMicrotask(() => q.push(m)));
  q.push({ type: "opened" });
  await q.next("opened");
  const send = (c: WorkerCommand) => void handle(c).catch((err: unknown) => q.push({ type: "error", message: String(err) }));
  return {
    send,
    next: q.next,
    onStart: q.setOnStart,
    async stop() {
      send({ cmd: "stop" });
      return (await q.next("stopped", 60_000)).handled;
    },
    kill: () => {},
  };
}
