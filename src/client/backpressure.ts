/**
 * Back-pressure (Altinn's bounded inbox): an optional limit on unfinished tasks in all and per
 * topic. Above it, `enqueue` waits until enough tasks finish (up to `waitMs`), or fails at once
 * with {@link BackpressureError} when the caller asks for that (`backpressureWaitMs: 0`, which
 * the HTTP API uses to answer 429 with Retry-After).
 *
 * The check counts unfinished tasks with one statement over the partial state index. It is
 * exact for one producer; concurrent producers can each pass the check at the same moment, so
 * the limit can be exceeded by at most the number of enqueues in flight (a soft limit, like any
 * admission control that does not serialise all producers).
 *
 * @internal
 * @module
 */
import { BackpressureError } from "../errors.js";
import type { Engine } from "../tasklane.js";

/** The `backpressure` option of `open`. */
export interface BackpressureConfig {
  /** Most unfinished tasks in all. */
  maxUnfinished?: number | undefined;
  /** Most unfinished tasks of one topic: one number for every topic, or per topic. */
  maxUnfinishedPerTopic?: number | Record<string, number> | undefined;
  /** How long enqueue waits for room by default (default 30,000 ms; 0 fails at once). */
  waitMs: number;
}

/** How often a waiting enqueue looks again. */
const RECHECK_MS = 50;

function topicLimit(config: BackpressureConfig, topic: string): number | undefined {
  const per = config.maxUnfinishedPerTopic;
  return typeof per === "number" ? per : per?.[topic];
}

/**
 * Resolves when `incoming` (tasks per topic) fits under the limits; throws BackpressureError when
 * it does not within `waitMs`.
 */
export async function admit(engine: Engine, config: BackpressureConfig, incoming: Map<string, number>, waitMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + waitMs;
  const topics = [...incoming.keys()];
  const total = [...incoming.values()].reduce((a, b) => a + b, 0);
  for (;;) {
    const [row] = await engine.driver.query<{ total: number; by_topic: Record<string, number> }>(engine.queries.get("CountUnfinished"), [topics]);
    const over: string[] = [];
    if (config.maxUnfinished !== undefined && row!.total + total > config.maxUnfinished) over.push(`${row!.total} unfinished tasks (limit ${config.maxUnfinished})`);
    for (const [topic, n] of incoming) {
      const limit = topicLimit(config, topic);
      const now = Number(row!.by_topic[topic] ?? 0);
      if (limit !== undefined && now + n > limit) over.push(`${now} unfinished tasks of topic "${topic}" (limit ${limit})`);
    }
    if (over.length === 0) return;
    if (Date.now() >= deadline || signal?.aborted) {
      throw new BackpressureError(`too many unfinished tasks: ${over.join("; ")}; enqueue again later`, { retryAfterMs: 1_000, waitedMs: waitMs });
    }
    await new Promise((r) => setTimeout(r, Math.min(RECHECK_MS, Math.max(1, deadline - Date.now()))));
  }
}
