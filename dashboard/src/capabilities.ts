/**
 * What this server's API offers beyond the routes every version has, read once from
 * `/openapi.json` (an open route): the dashboard shows a control only when the API behind it exists.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";

export interface Capabilities {
  /** Query parameters of `GET /api/v1/tasks`. */
  taskQuery: Set<string>;
  /** `GET /api/v1/events` (the audit log). */
  events: boolean;
}

let cached: Promise<Capabilities> | undefined;

interface OpenApi {
  paths?: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
}

export function capabilities(): Promise<Capabilities> {
  return (cached ??= api<OpenApi>("/openapi.json").then(
    (doc) => ({
      taskQuery: new Set((doc.paths?.["/api/v1/tasks"]?.get?.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name)),
      events: !!doc.paths?.["/api/v1/events"]?.get,
    }),
    () => {
      cached = undefined;
      return { taskQuery: new Set(["state", "topic", "tag", "search", "limit", "cursor"]), events: true };
    },
  ));
}

export function useCapabilities(): Capabilities | undefined {
  const [caps, set] = useState<Capabilities>();
  useEffect(() => {
    let live = true;
    void capabilities().then((c) => live && set(c));
    return () => {
      live = false;
    };
  }, []);
  return caps;
}
