/**
 * Push tasks: a topic whose tasks the engine delivers to an HTTP endpoint instead of running an
 * in-process handler (Altinn's "commands"). `webhook({ url })` is an ordinary handler, so a push
 * task has everything a task has: retries, timeouts, leases, history, and it can be a process step.
 *
 * How an answer is classified:
 * - 2xx: completed; a JSON body becomes the result (any other body: `{ status, body }` as text).
 * - 408, 429, 5xx and network errors: retried per the topic's policy; a `Retry-After` header
 *   (seconds or an HTTP date) replaces the backoff for that retry.
 * - any other 4xx: failed at once (the receiver said the request itself is wrong).
 *
 * Each request is signed when a `secret` is given: header `Tasklane-Signature: t=<unix ms>,v1=<hex>`
 * where `<hex>` is HMAC-SHA256(secret, `<t>.<body>`). The receiver recomputes it over the raw
 * body and rejects stale timestamps (see {@link verifyWebhookSignature}).
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { FatalError, RetryAfterError, ValidationError } from "../errors.js";
import type { RunningTask, TaskContext, TaskHandler } from "../task.js";

/** Options of {@link webhook}. */
export interface WebhookOptions {
  /** The endpoint (http or https). */
  url: string;
  /** Default `POST`. */
  method?: "POST" | "PUT" | "PATCH";
  /** Extra request headers (an API key, …). */
  headers?: Record<string, string>;
  /** Abort the request after this many milliseconds (default 30,000); counts as a retryable failure. */
  timeoutMs?: number;
  /** Signs every request with HMAC-SHA256 so the receiver can verify it came from this engine. */
  secret?: string;
}

/** The JSON body a receiver gets. */
export interface WebhookBody {
  id: string;
  topic: string;
  payload: unknown;
  attempt: number;
  processId: string | null;
  step: string | null;
  /** Process steps only: the process input and the parents' results. */
  input?: unknown;
  parents?: Record<string, unknown>;
}

const RETRYABLE = new Set([408, 429]);

/** Signature header value for `body` at time `t` (unix ms). */
export function signWebhook(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

/**
 * Verifies a `Tasklane-Signature` header on the receiving side: the HMAC matches the raw body and
 * the timestamp is at most `toleranceMs` old (default 5 minutes), which stops replays.
 */
export function verifyWebhookSignature(secret: string, rawBody: string, header: string | null | undefined, toleranceMs = 300_000, now = Date.now()): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(now - t) > toleranceMs) return false;
  const expected = Buffer.from(signWebhook(secret, rawBody, t).slice(`t=${t},v1=`.length), "hex");
  return timingSafeEqual(expected, Buffer.from(match[2]!, "hex"));
}

/** Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from now. */
function retryAfterMs(value: string | null): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/**
 * A handler that delivers each task to an HTTP endpoint.
 *
 * @example
 * tl.define("invoice.send", webhook({ url: "https://billing.example/hooks/invoice", secret: process.env.HOOK_SECRET }),
 *   { retry: { maxAttempts: 8 } });
 */
export function webhook(options: WebhookOptions): TaskHandler {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new ValidationError(`webhook: url "${options.url}" is not a URL`, { field: "url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ValidationError("webhook: url must be http or https", { field: "url" });
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ValidationError("webhook: timeoutMs must be a positive integer", { field: "timeoutMs" });

  return async (task: RunningTask, ctx: TaskContext) => {
    const message: WebhookBody = {
      id: task.id, topic: task.topic, payload: task.payload, attempt: task.attempt, processId: task.processId, step: task.step,
      ...(task.processId && { input: ctx.input, parents: ctx.parents }),
    };
    const body = JSON.stringify(message);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "tasklane-webhook",
      // The same task keeps its id across attempts: receivers deduplicate on it.
      "idempotency-key": task.id,
      "tasklane-task-id": task.id,
      "tasklane-attempt": String(task.attempt),
      ...options.headers,
    };
    if (options.secret) headers["tasklane-signature"] = signWebhook(options.secret, body, Date.now());
    let res: Response;
    try {
      res = await fetch(url, { method: options.method ?? "POST", headers, body, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]) });
    } catch (err) {
      throw new Error(`webhook ${url.origin}${url.pathname}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.ok) {
      if (!text) return null;
      if ((res.headers.get("content-type") ?? "").includes("json")) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return { status: res.status, body: text };
        }
      }
      return { status: res.status, body: text };
    }
    const detail = `webhook ${url.origin}${url.pathname} answered ${res.status}${text ? `: ${text.slice(0, 500)}` : ""}`;
    if (RETRYABLE.has(res.status) || res.status >= 500) {
      const after = retryAfterMs(res.headers.get("retry-after"));
      if (after !== null) throw new RetryAfterError(detail, after);
      throw new Error(detail);
    }
    throw new FatalError(detail);
  };
}
