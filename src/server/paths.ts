/**
 * Routes `/openapi.json` describes by hand: the server's own (health, readiness, the document
 * itself, metrics) and the two external-task dialects, whose request shapes are their
 * protocols' (see DESIGN §5 and docs/http-api.md), described here at the path level.
 *
 * @module
 */
import type { PathDoc } from "./openapi.js";

/** `/healthz`, `/readyz`, `/openapi.json` (open) and `/metrics` (scope `read`). */
export const systemPaths: readonly PathDoc[] = [
  { method: "get", path: "/healthz", scope: null, operationId: "health", tag: "system", summary: "Liveness: the process answers" },
  {
    method: "get", path: "/readyz", scope: null, operationId: "ready", tag: "system",
    summary: "Readiness: the database answers and has every migration (503 NOT_READY otherwise)",
  },
  { method: "get", path: "/openapi.json", scope: null, operationId: "openapi", tag: "system", summary: "This document" },
  {
    method: "get", path: "/metrics", scope: "read", operationId: "metrics", tag: "system", summary: "Prometheus metrics",
    ok: { status: 200, description: "Prometheus text exposition format", contentType: "text/plain" },
  },
];

const fiveMinds = "/api/external_task/v1";
const camunda = "/engine-rest/external-task";

/** The 5Minds ExternalTask API and the Camunda 7 external-task REST API (scope `work`). */
export const dialectPaths: readonly PathDoc[] = [
  { method: "post", path: `${fiveMinds}/fetch_and_lock`, operationId: "fiveMindsFetchAndLock", summary: "Fetch and lock tasks of a topic (long polling)", body: true },
  { method: "post", path: `${fiveMinds}/task/{id}/extend_lock`, operationId: "fiveMindsExtendLock", summary: "Extend a lock", body: true, ok: { status: 204, description: "extended" } },
  { method: "post", path: `${fiveMinds}/task/{id}/finish`, operationId: "fiveMindsFinish", summary: "Finish a task with a result", body: true, ok: { status: 204, description: "finished" } },
  { method: "post", path: `${fiveMinds}/task/{id}/handle_bpmn_error`, operationId: "fiveMindsBpmnError", summary: "Report a business error", body: true, ok: { status: 204, description: "recorded" } },
  { method: "post", path: `${fiveMinds}/task/{id}/handle_service_error`, operationId: "fiveMindsServiceError", summary: "Report a technical failure", body: true, ok: { status: 204, description: "recorded" } },
  { method: "post", path: `${camunda}/fetchAndLock`, operationId: "camundaFetchAndLock", summary: "Fetch and lock tasks of one or more topics (long polling)", body: true },
  { method: "post", path: `${camunda}/{id}/complete`, operationId: "camundaComplete", summary: "Complete a task with variables", body: true, ok: { status: 204, description: "completed" } },
  { method: "post", path: `${camunda}/{id}/failure`, operationId: "camundaFailure", summary: "Report a failure (retries, retryTimeout)", body: true, ok: { status: 204, description: "recorded" } },
  { method: "post", path: `${camunda}/{id}/bpmnError`, operationId: "camundaBpmnError", summary: "Report a business error", body: true, ok: { status: 204, description: "recorded" } },
  { method: "post", path: `${camunda}/{id}/extendLock`, operationId: "camundaExtendLock", summary: "Extend a lock", body: true, ok: { status: 204, description: "extended" } },
  { method: "post", path: `${camunda}/{id}/unlock`, operationId: "camundaUnlock", summary: "Release a lock", ok: { status: 204, description: "unlocked" } },
  { method: "post", path: `${camunda}/{id}/lock`, operationId: "camundaLock", summary: "Lock a task", body: true, ok: { status: 204, description: "locked" } },
  { method: "get", path: `${camunda}/{id}`, operationId: "camundaGet", summary: "One external task" },
  { method: "get", path: camunda, operationId: "camundaList", summary: "External tasks" },
  { method: "get", path: `${camunda}/count`, operationId: "camundaCount", summary: "How many external tasks" },
].map((p) => ({ ...p, method: p.method as PathDoc["method"], scope: "work" as const, tag: p.path.startsWith("/engine-rest") ? "camunda" : "5minds" }));
