/** Audit log: every operator action, who did it and when, newest first. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { Empty, ErrorNote, Loading, PageHeader, Time } from "../components/ui";
import { usePoll } from "../live";
import { link, navigate } from "../router";
import type { AuditEvent, AuditPage as Page } from "../types";

const pageSize = 50;
let stack: string[] = [];

function target(e: AuditEvent) {
  if (e.schedule) return <a href={link("schedules", e.schedule)}>schedule {e.schedule}</a>;
  if (e.taskId) return <a href={link("tasks", e.taskId)}>task {e.taskId}</a>;
  if (e.processId) return <a href={link("processes", e.processId)}>process {e.processId}</a>;
  return <span class="muted">—</span>;
}

export function AuditPage({ query }: { query: URLSearchParams }) {
  const cursor = query.get("cursor") ?? undefined;
  if (!cursor) stack = [];
  const [missing, setMissing] = useState(false);
  // A server without the route answers 404 once; no point asking again every few seconds.
  const page = usePoll((signal) => api<Page>("/events", { signal, query: { limit: pageSize, cursor, operatorOnly: "true" } }), `audit:${cursor ?? ""}`, missing ? 0 : 5000);
  const notThere = page.error instanceof ApiError && page.error.status === 404;
  useEffect(() => setMissing(notThere), [notThere]);
  return (
    <section>
      <PageHeader title="Audit log" sub="Operator actions: retries, cancels, suspends, events sent, schedules paused, with who did them." at={page.at} />
      {missing ? (
        <p class="notice" data-testid="audit-missing">
          This server's API does not list operator actions yet (<code>GET /api/v1/events</code>). Each task's and schedule's own page shows the actions
          taken on it.
        </p>
      ) : (
        <ErrorNote error={page.error} what="Audit log" />
      )}
      {page.loading && !page.data ? (
        !missing && <Loading />
      ) : !page.data?.events.length ? (
        !missing && <Empty>No operator action yet.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="data" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">On</th>
                <th scope="col" class="hide-sm">
                  Details
                </th>
              </tr>
            </thead>
            <tbody>
              {page.data.events.map((e) => (
                <tr key={`${e.schedule ? "s" : "t"}${e.id}`}>
                  <td>
                    <Time at={e.at} exact />
                  </td>
                  <td>{e.actor ?? <span class="muted">system</span>}</td>
                  <td class="mono">{e.kind}</td>
                  <td>{target(e)}</td>
                  <td class="hide-sm small mono">{e.data != null && JSON.stringify(e.data) !== "{}" ? JSON.stringify(e.data) : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!missing && (
        <nav class="pager" aria-label="Pages">
          <button
            type="button"
            class="btn plain"
            disabled={!cursor}
            onClick={() => {
              const c = stack.pop();
              navigate(link("audit", { cursor: c || undefined }));
            }}
          >
            ← Newer
          </button>
          <button
            type="button"
            class="btn plain"
            disabled={!page.data?.nextCursor}
            onClick={() => {
              stack.push(cursor ?? "");
              navigate(link("audit", { cursor: page.data!.nextCursor! }));
            }}
          >
            Older →
          </button>
        </nav>
      )}
    </section>
  );
}
