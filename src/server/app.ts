/**
 * The HTTP API as a Hono app, apart from any server so it can be mounted in an application's own
 * Hono app or tested with `app.request()`.
 *
 * @module
 */
import { Hono } from "hono";
import { ValidationError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Tasklane } from "../tasklane.js";
import { defaultBodyLimitBytes, limitBody, requireJsonBody } from "./body.js";
import { errorHandler, notFoundHandler } from "./errors.js";
import { taskRoutes } from "./routes/tasks.js";

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Largest accepted request body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimitBytes?: number;
  /** Where unexpected errors are logged (default: the Tasklane instance's logger). */
  logger?: Logger;
}

/**
 * Creates the HTTP API over a Tasklane instance. The app does not close the instance.
 *
 * @example
 * const app = createApp(await Tasklane.open());
 * const res = await app.request("/healthz");
 */
export function createApp(tl: Tasklane, options: AppOptions = {}): Hono {
  const bodyLimitBytes = options.bodyLimitBytes ?? defaultBodyLimitBytes;
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1) {
    throw new ValidationError(`bodyLimitBytes must be a positive integer, got ${String(bodyLimitBytes)}`, { field: "bodyLimitBytes" });
  }
  const app = new Hono();
  app.onError(errorHandler(options.logger ?? tl.engine.logger));
  app.notFound(notFoundHandler);

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  // Content type first: it needs only the headers, so a wrong one is refused before any body is read.
  app.use("/api/*", requireJsonBody(), limitBody(bodyLimitBytes));
  app.route("/api/v1/tasks", taskRoutes(tl));
  return app;
}
