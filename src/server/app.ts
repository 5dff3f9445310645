/**
 * The HTTP API as a Hono app, apart from any server so it can be mounted in an application's own
 * Hono app or tested with `app.request()`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { Hono } from "hono";
import { ValidationError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Tasklane } from "../tasklane.js";
import { Api } from "./api.js";
import { authenticated, requireScope, tokenAuthenticator, useAuthenticator, type AppEnv, type Authenticator } from "./auth.js";
import { defaultBodyLimitBytes, limitBody, requireJsonBody } from "./body.js";
import { errorHandler, errorResponse, notFoundHandler } from "./errors.js";
import { Metrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { dialectPaths, systemPaths } from "./paths.js";
import { operationRoutes } from "./routes/operations.js";
import { processRoutes } from "./routes/processes.js";
import { scheduleRoutes } from "./routes/schedules.js";
import { taskRoutes } from "./routes/tasks.js";
import { fiveMindsRoutes } from "./routes/fiveminds.js";
import { camundaRoutes } from "./routes/camunda.js";
import { dashboardRoutes } from "./dashboard.js";
import { tokenRoutes } from "./routes/tokens.js";
import { notReadyReason, readStats, shippedVersions } from "./stats.js";

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Largest accepted request body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimitBytes?: number;
  /** Where unexpected errors are logged (default: the Tasklane instance's logger). */
  logger?: Logger;
  /**
   * How bearer secrets are checked (default: the instance's tokens, `tl.authenticateToken`,
   * cached for 5 s). Replace it to accept another kind of credential, such as your own JWTs.
   */
  authenticate?: Authenticator;
}

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/**
 * Creates the HTTP API over a Tasklane instance. The app does not close the instance.
 *
 * @example
 * const tl = await Tasklane.open();
 * const { token } = await tl.createToken({ name: "ops", scopes: ["admin"] });
 * const app = createApp(tl);
 * const res = await app.request("/api/v1/stats", { headers: { authorization: `Bearer ${token}` } });
 */
export function createApp(tl: Tasklane, options: AppOptions = {}): Hono<AppEnv> {
  const bodyLimitBytes = options.bodyLimitBytes ?? defaultBodyLimitBytes;
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1) {
    throw new ValidationError(`bodyLimitBytes must be a positive integer, got ${String(bodyLimitBytes)}`, { field: "bodyLimitBytes" });
  }
  const logger = options.logger ?? tl.engine.logger;
  const cached = options.authenticate ? undefined : tokenAuthenticator(tl);
  const stats = () => readStats(tl.engine);
  const metrics = new Metrics(tl, stats);

  const api = new Api();
  taskRoutes(api, tl);
  processRoutes(api, tl);
  scheduleRoutes(api, tl);
  operationRoutes(api, tl, stats);
  tokenRoutes(api, tl, () => cached?.clear());
  // Built once, lazily: the route table does not change after this point.
  let openapi: Record<string, unknown> | undefined;
  const expectedVersions = shippedVersions();

  const app = new Hono<AppEnv>();
  app.onError(errorHandler(logger));
  app.notFound(notFoundHandler);
  // First, so that refused and failed requests are counted too.
  app.use("*", metrics.middleware());
  // A caller's W3C `traceparent` becomes the active trace context of the request, so a task
  // enqueued (or a process started) here continues the caller's trace in its attempts.
  app.use("*", (c, next) => context.with(propagation.extract(ROOT_CONTEXT, c.req.header()), next));
  app.use("*", useAuthenticator(options.authenticate ?? cached!));

  // Open routes: probes and the description of the API.
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const problem = await notReadyReason(tl.engine, expectedVersions);
    if (!problem) return c.json({ status: "ready" });
    return errorResponse(c, 503, "NOT_READY", problem.message, problem.missing ? { missing: problem.missing } : undefined);
  });
  app.get("/openapi.json", (c) => c.json((openapi ??= openApiDocument(version, api.routes, [...systemPaths, ...dialectPaths]))));
  // The dashboard (`/` and `/assets/*`): static files; it talks to the API with the token the user signs in with.
  app.route("/", dashboardRoutes());

  app.get("/metrics", requireScope("read"), async (c) => {
    const { body, contentType } = await metrics.render();
    return c.body(body, 200, { "Content-Type": contentType });
  });

  // Every path under these prefixes needs a token, unknown ones too: without one, a client
  // learns nothing about which routes exist. The routes then check their own scope.
  app.use("/api/*", authenticated());
  app.use("/api/external_task/*", requireScope("work"));
  app.use("/engine-rest/*", requireScope("work"));

  // Content type first: it needs only the headers, so a wrong one is refused before any body is read.
  app.use("/api/*", requireJsonBody(), limitBody(bodyLimitBytes));
  app.route("/api/v1", api.app);
  // The external-task dialects (docs/external-tasks.md); scope `work`, checked above.
  app.route("/api/external_task/v1", fiveMindsRoutes(tl, { logger }));
  app.route("/engine-rest", camundaRoutes(tl, { bodyLimitBytes, logger }));
  return app;
}
