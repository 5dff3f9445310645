/** Overview: tasks by state and topic, throughput and latency over time, workers, failures, schedules due. */
import { useEffect, useState } from "preact/hooks";
import { api, sharedGet } from "../api";
import { LineChart, StackedBar } from "../components/charts";
import { Empty, ErrorNote, Loading, PageHeader, StateBadge, Time } from "../components/ui";
import { compact, formatCount, formatDuration } from "../format";
import { usePoll } from "../live";
import { link } from "../router";
import { getSamples, onSamples, type Sample } from "../samples";
import { taskStates, type Schedule, type Stats, type TaskPage, type TaskState, type Worker } from "../types";

const hourMs = 3_600_000;
/** Failed tasks read to count the last hour's: the newest ones, by the state index. */
const failedWindow = 200;

function useSamples(): readonly Sample[] {
  const [samples, set] = useState(getSamples);
  useEffect(() => onSamples(set), []);
  return samples;
}

function Card({ label, value, href, tone, testId }: { label: string; value: string; href?: string; tone?: string; testId?: string }) {
  const body = (
    <>
      <span class="card-value">{value}</span>
      <span class="card-label">{label}</span>
    </>
  );
  return (
    <li class={`stat ${tone ?? ""}`} data-testid={testId}>
      {href ? <a href={href}>{body}</a> : <div>{body}</div>}
    </li>
  );
}

export function OverviewPage() {
  const stats = usePoll(() => sharedGet<Stats>("/stats", 2000), "stats", 3000);
  const workers = usePoll((signal) => api<{ workers: Worker[] }>("/workers", { signal }), "workers", 5000);
  const schedules = usePoll((signal) => api<{ schedules: Schedule[] }>("/schedules", { signal, query: { nextRuns: 1, recentRuns: 0 } }), "schedules", 10_000);
  const failed = usePoll((signal) => api<TaskPage>("/tasks", { signal, query: { state: "failed", limit: failedWindow } }), "failed", 10_000);
  const samples = useSamples();

  const s = stats.data;
  const now = Date.now();
  const alive = workers.data?.workers.filter((w) => w.state === "running") ?? [];
  const recentFailures = failed.data?.tasks.filter((t) => t.finishedAt && now - new Date(t.finishedAt).getTime() < hourMs).length;
  const failuresText =
    recentFailures === undefined ? "…" : recentFailures === failedWindow && failed.data?.nextCursor ? `${failedWindow}+` : formatCount(recentFailures);
  const due = (schedules.data?.schedules ?? [])
    .filter((x) => x.enabled && x.nextRunAt)
    .sort((a, b) => a.nextRunAt!.localeCompare(b.nextRunAt!));
  const dueSoon = due.filter((x) => new Date(x.nextRunAt!).getTime() - now < hourMs);

  const points = (pick: (x: Sample) => number | null) => samples.map((x) => ({ t: x.t, v: pick(x) }));
  const topics = s ? Object.entries(s.topics).sort(([a], [b]) => a.localeCompare(b)) : [];
  const shownStates: TaskState[] = ["pending", "ready", "running", "waiting", "suspended", "failed", "cancelled", "expired", "completed"];

  return (
    <section>
      <PageHeader title="Overview" sub="Everything on this database, read through the HTTP API." at={stats.at} />
      <ErrorNote error={stats.error} what="Counts" />
      <ul class="stats" aria-label="Key numbers">
        <Card label="ready" value={s ? formatCount(s.tasks.ready) : "…"} href={link("tasks", { state: "ready" })} />
        <Card label="running" value={s ? formatCount(s.tasks.running) : "…"} href={link("tasks", { state: "running" })} />
        <Card label="waiting" value={s ? formatCount(s.tasks.waiting) : "…"} href={link("tasks", { state: "waiting" })} />
        <Card label="failed in the last hour" value={failuresText} href={link("tasks", { state: "failed" })} tone={recentFailures ? "bad" : ""} testId="failures-hour" />
        <Card label="workers alive" value={workers.data ? formatCount(alive.length) : "…"} href={link("workers")} tone={workers.data && !alive.length ? "warn" : ""} testId="workers-alive" />
        <Card label="processes running" value={s ? formatCount(s.processes.running ?? 0) : "…"} href={link("processes", { state: "running" })} />
        <Card label="schedules due within the hour" value={schedules.data ? formatCount(dueSoon.length) : "…"} href={link("schedules")} />
      </ul>

      <div class="grid2">
        <section class="panel" aria-labelledby="by-state">
          <h2 id="by-state">Tasks by state</h2>
          {!s ? (
            <Loading />
          ) : (
            <>
              <StackedBar label="Tasks by state" parts={shownStates.filter((st) => st !== "completed").map((st) => ({ name: st, value: s.tasks[st] ?? 0 }))} />
              <ul class="state-counts">
                {shownStates.map((st) => (
                  <li key={st}>
                    <a href={link("tasks", { state: st })}>
                      <StateBadge state={st} />
                      <span class="num">
                        {st === "completed" && s.completedEstimated ? "≈" : ""}
                        {formatCount(s.tasks[st] ?? 0)}
                      </span>
                    </a>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section class="panel" aria-labelledby="due">
          <h2 id="due">Schedules due next</h2>
          <ErrorNote error={schedules.error} />
          {!schedules.data ? (
            <Loading />
          ) : due.length === 0 ? (
            <Empty>No enabled schedule.</Empty>
          ) : (
            <ul class="plain-list">
              {due.slice(0, 6).map((x) => (
                <li key={x.name}>
                  <a href={link("schedules", x.name)}>{x.name}</a> <span class="muted">{x.topic}</span>
                  <span class="right">
                    <Time at={x.nextRunAt} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <section class="panel" aria-labelledby="charts">
        <h2 id="charts">Over time</h2>
        <p class="muted small">
          Sampled by this page every 5 s while it is open. Queue sizes count the whole database; completions, failures and attempt durations
          count the attempts run by this server's own workers (from <code>/metrics</code>).
        </p>
        <div class="charts">
          <LineChart
            title="Queue"
            series={[
              { name: "ready", cls: "s-ready", points: points((x) => x.ready) },
              { name: "running", cls: "s-running", points: points((x) => x.running) },
              { name: "waiting", cls: "s-waiting", points: points((x) => x.waiting) },
            ]}
          />
          <LineChart
            title="Throughput"
            unit="/s"
            series={[
              { name: "completed", cls: "s-completed", points: points((x) => x.completedRate) },
              { name: "failed", cls: "s-failed", points: points((x) => x.failedRate) },
            ]}
          />
          <LineChart
            title="Attempt latency"
            format={(v) => (v === 0 ? "0" : formatDuration(v * 1000))}
            series={[
              { name: "p50", cls: "s-running", points: points((x) => x.p50) },
              { name: "p95", cls: "s-waiting", points: points((x) => x.p95) },
            ]}
          />
        </div>
      </section>

      <section class="panel" aria-labelledby="by-topic">
        <h2 id="by-topic">Tasks by topic</h2>
        {!s ? (
          <Loading />
        ) : topics.length === 0 ? (
          <Empty>No tasks yet.</Empty>
        ) : (
          <div class="table-scroll">
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  {taskStates.map((st) => (
                    <th scope="col" class="num" key={st}>
                      {st}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {topics.map(([topic, counts]) => (
                  <tr key={topic}>
                    <th scope="row">
                      <a href={link("tasks", { topic })}>{topic}</a>
                    </th>
                    {taskStates.map((st) => (
                      <td class="num" key={st}>
                        {counts[st] ? <a href={link("tasks", { topic, state: st })}>{compact(counts[st]!)}</a> : <span class="muted">{st === "completed" && s.completedEstimated ? "?" : "·"}</span>}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </section>
  );
}
