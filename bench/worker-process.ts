/**
 * The worker process of scenarios B and C on PostgreSQL (`node --import tsx
 * bench/worker-process.ts '<config JSON>'`, started by the producer with an IPC channel).
 * Config: `{ url, schema, worker: WorkerSideConfig, poolSize? }`.
 */
import { Tasklane, silentLogger } from "./lib/library.js";
import { workerSide, type WorkerCommand, type WorkerMessage, type WorkerSideConfig } from "./lib/worker-side.js";

const config = JSON.parse(process.argv[2] ?? "{}") as { url: string; schema: string; worker: WorkerSideConfig; poolSize?: number };
const send = (m: WorkerMessage) => process.send!(m);

try {
  const tl = await Tasklane.open({
    database: config.url,
    schema: config.schema,
    logger: silentLogger,
    ...(config.poolSize !== undefined && { poolSize: config.poolSize }),
  });
  const handle = workerSide(tl, config.worker, send);
  process.on("message", (c: WorkerCommand) => {
    handle(c).then(
      async () => {
        if (c.cmd === "stop") {
          await tl.close({ graceMs: 0 });
          process.disconnect();
        }
      },
      (err: unknown) => send({ type: "error", message: String((err as Error)?.stack ?? err) }),
    );
  });
  send({ type: "opened" });
} catch (err) {
  send({ type: "error", message: String((err as Error)?.stack ?? err) });
  process.exitCode = 1;
  process.disconnect();
}
