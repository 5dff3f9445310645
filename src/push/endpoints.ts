/**
 * Push endpoints defined at runtime: the same delivery as `webhook()`, configured over the HTTP
 * API instead of in code. A {@link PushRunner} (started by `tasklane serve`) runs a worker for
 * the stored endpoints and follows changes: every few seconds it compares the set it runs with
 * the table and, when they differ, replaces its worker (the old one finishes what it runs).
 *
 * @internal
 * @module
 */
import { z } from "zod";
import type { Engine } from "../tasklane.js";
import { parseOptions, topicSchema } from "../config.js";
import { Worker } from "../runtime/worker.js";
import type { Definition } from "../client/definition.js";
import { webhook } from "./webhook.js";

/** A stored push endpoint (its secret is never returned). */
export interface PushEndpoint {
  topic: string;
  url: string;
  method: "POST" | "PUT" | "PATCH";
  headers: Record<string, string>;
  timeoutMs: number;
  signed: boolean;
}

/** What {@link createPushEndpoint} takes. */
export const pushEndpointSchema = z.strictObject({
  topic: topicSchema,
  url: z.url({ protocol: /^https?$/, error: "url must be an http or https URL" }),
  method: z.enum(["POST", "PUT", "PATCH"]).default("POST"),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().min(1).max(600_000).default(30_000),
  secret: z.string().min(16, "a secret needs at least 16 characters").max(500).optional(),
});

/** Input of {@link createPushEndpoint}. */
export type PushEndpointInput = z.input<typeof pushEndpointSchema>;

type Row = Record<string, unknown>;

function fromRow(r: Row): PushEndpoint {
  return {
    topic: r.topic as string, url: r.url as string, method: r.method as PushEndpoint["method"],
    headers: r.headers as Record<string, string>, timeoutMs: Number(r.timeout_ms), signed: r.secret != null,
  };
}

/** Stores (or replaces) the push endpoint of a topic. */
export async function createPushEndpoint(engine: Engine, input: unknown): Promise<PushEndpoint & { created: boolean }> {
  const e = parseOptions(pushEndpointSchema, input, "push endpoint");
  const [row] = await engine.driver.query<Row>(engine.queries.get("PushUpsert"), [e.topic, e.url, e.method, JSON.stringify(e.headers), e.timeoutMs, e.secret ?? null]);
  return { ...fromRow(row!), created: row!.created === true };
}

/** Every stored push endpoint. */
export async function listPushEndpoints(engine: Engine): Promise<PushEndpoint[]> {
  return (await engine.driver.query<Row>(engine.queries.get("PushList"))).map(fromRow);
}

/** Deletes a topic's push endpoint; false when there was none. */
export async function deletePushEndpoint(engine: Engine, topic: string): Promise<boolean> {
  return (await engine.driver.query(engine.queries.get("PushDelete"), [topic])).length > 0;
}

/** Runs a worker for the stored push endpoints and follows changes to them. */
export class PushRunner {
  #worker: Worker | undefined;
  #signature = "";
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;

  constructor(private readonly engine: Engine, private readonly options: { concurrency: number; refreshMs: number; leaseMs: number }) {}

  /** Starts following the table (idempotent). */
  start(): Promise<void> {
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.sync(), this.options.refreshMs);
      this.#timer.unref();
    }
    return this.sync();
  }

  /** Compares the endpoints with the running worker and replaces the worker when they differ. */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    let rows: Row[];
    try {
      rows = await this.engine.driver.query<Row>(this.engine.queries.get("PushList"));
    } catch (err) {
      this.engine.logger.warn({ err }, "reading push endpoints failed");
      return;
    }
    const signature = JSON.stringify(rows.map((r) => [r.topic, r.url, r.method, r.headers, r.timeout_ms, r.secret, String(r.updated_at)]));
    if (signature === this.#signature) return;
    this.#signature = signature;
    const old = this.#worker;
    this.#worker = undefined;
    if (rows.length) {
      // The worker sees only these definitions: a topic defined in code on this instance is not
      // taken over, and the instance's own definitions are not touched.
      const definitions = new Map<string, Definition>(rows.map((r) => [r.topic as string, {
        topic: r.topic as string,
        handler: webhook({ url: r.url as string, method: r.method as PushEndpoint["method"], headers: r.headers as Record<string, string>, timeoutMs: Number(r.timeout_ms), ...(r.secret ? { secret: r.secret as string } : {}) }),
        options: {},
      }]));
      const worker = new Worker({ ...this.engine, definitions }, {
        topics: [...definitions.keys()], concurrency: this.options.concurrency, pollIntervalMs: 1_000, leaseMs: this.options.leaseMs,
      }, { onStart: () => undefined, onStop: () => undefined });
      await worker.start();
      this.#worker = worker;
    }
    await old?.stop({ graceMs: 30_000 });
  }

  /** Stops following and stops the worker (running deliveries finish within `graceMs`). */
  async stop(graceMs = 30_000): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#syncing;
    await this.#worker?.stop({ graceMs });
    this.#worker = undefined;
  }
}
