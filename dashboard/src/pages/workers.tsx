/** Workers: host, tags, topics, last seen, and what each runs now. */
import { api } from "../api";
import { Empty, ErrorNote, Loading, PageHeader, StateBadge, Tags, Time } from "../components/ui";
import { usePoll } from "../live";
import { link } from "../router";
import type { Task, TaskPage, Worker } from "../types";

/** Running tasks read to show what each worker runs (the newest ones). */
const runningWindow = 200;

export function WorkersPage() {
  const workers = usePoll((signal) => api<{ workers: Worker[] }>("/workers", { signal }), "workers", 3000);
  const running = usePoll((signal) => api<TaskPage>("/tasks", { signal, query: { state: "running", limit: runningWindow } }), "running", 5000);
  const byWorker = new Map<string, Task[]>();
  for (const t of running.data?.tasks ?? []) if (t.workerId) byWorker.set(t.workerId, [...(byWorker.get(t.workerId) ?? []), t]);
  const list = [...(workers.data?.workers ?? [])].sort((a, b) => (a.state === b.state ? b.lastSeenAt.localeCompare(a.lastSeenAt) : a.state === "running" ? -1 : b.state === "running" ? 1 : 0));
  return (
    <section>
      <PageHeader title="Workers" sub="Workers that run, or ran in the last day, on this database." at={workers.at} />
      <ErrorNote error={workers.error} what="Workers" />
      {workers.loading && !workers.data ? (
        <Loading />
      ) : list.length === 0 ? (
        <Empty>No worker has run in the last day. Remote workers that use the external-task APIs are not listed here.</Empty>
      ) : (
        <ul class="worker-list">
          {list.map((w) => {
            const tasks = byWorker.get(w.id) ?? [];
            return (
              <li key={w.id} class="panel worker">
                <div class="worker-head">
                  <h2 class="mono">{w.id}</h2>
                  <StateBadge state={w.state === "running" ? "running" : w.state === "lost" ? "failed" : "cancelled"} />
                  <span class="muted small">{w.state}</span>
                </div>
                <dl class="facts inline">
                  <div>
                    <dt>Host</dt>
                    <dd>
                      {w.host} <span class="muted">pid {w.pid}</span>
                    </dd>
                  </div>
                  <div>
                    <dt>Topics</dt>
                    <dd>{w.topics.join(", ")}</dd>
                  </div>
                  <div>
                    <dt>Tags</dt>
                    <dd>
                      <Tags tags={w.tags} />
                    </dd>
                  </div>
                  <div>
                    <dt>Running</dt>
                    <dd>
                      {w.running} of {w.concurrency}
                    </dd>
                  </div>
                  <div>
                    <dt>Last seen</dt>
                    <dd>
                      <Time at={w.lastSeenAt} />
                    </dd>
                  </div>
                  <div>
                    <dt>Started</dt>
                    <dd>
                      <Time at={w.startedAt} />
                    </dd>
                  </div>
                </dl>
                {tasks.length > 0 && (
                  <details open={tasks.length <= 5}>
                    <summary>Running now ({tasks.length})</summary>
                    <ul class="plain-list">
                      {tasks.slice(0, 50).map((t) => (
                        <li key={t.id}>
                          <a class="mono" href={link("tasks", t.id)}>
                            {t.id}
                          </a>{" "}
                          {t.topic}
                          {t.step && <span class="muted"> · step {t.step}</span>}
                          <span class="right muted small">
                            since <Time at={t.startedAt} />
                          </span>
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
