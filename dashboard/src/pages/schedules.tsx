/** Schedules: next runs, history, pause and resume. */
import { api, can, post } from "../api";
import { ActionButton } from "../components/dialog";
import { Empty, ErrorNote, Facts, JsonBlock, Loading, PageHeader, StateBadge, Tags, Time } from "../components/ui";
import { formatDate, formatDuration } from "../format";
import { usePoll } from "../live";
import { link } from "../router";
import type { Schedule } from "../types";

function status(s: Schedule, withReason = false) {
  if (s.enabled) return <span class="badge state-running">active</span>;
  const paused = !s.disabledReason || s.disabledReason.startsWith("paused");
  return (
    <>
      <span class={`badge ${paused ? "state-suspended" : "state-failed"}`} title={s.disabledReason ?? undefined}>
        {paused ? "paused" : "disabled"}
      </span>
      {withReason && s.disabledReason && <span class="muted small reason"> {s.disabledReason}</span>}
    </>
  );
}

function PauseResume({ s, done }: { s: Schedule; done(): void }) {
  if (!can("admin")) return null;
  const ref = encodeURIComponent(s.name);
  return s.enabled ? (
    <ActionButton
      label="Pause"
      testId={`pause-${s.name}`}
      confirm={<p>Pause schedule {s.name}? No tick runs until it is resumed; runs already started go on.</p>}
      run={async () => (await post(`/schedules/${ref}/pause`), `Schedule ${s.name} paused`)}
      done={done}
    />
  ) : (
    <ActionButton label="Resume" testId={`resume-${s.name}`} run={async () => (await post(`/schedules/${ref}/resume`), `Schedule ${s.name} resumed`)} done={done} />
  );
}

export function SchedulesPage() {
  const list = usePoll((signal) => api<{ schedules: Schedule[] }>("/schedules", { signal, query: { nextRuns: 3, recentRuns: 5 } }), "schedules", 5000);
  const schedules = list.data?.schedules ?? [];
  return (
    <section>
      <PageHeader title="Schedules" sub="Cron schedules: each tick enqueues one task, once across every node." at={list.at} />
      <ErrorNote error={list.error} what="Schedules" />
      {list.loading && !list.data ? (
        <Loading />
      ) : schedules.length === 0 ? (
        <Empty>No schedules. Declare one with tl.schedule() or POST /api/v1/schedules.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Cron</th>
                <th scope="col" class="hide-sm">
                  Topic
                </th>
                <th scope="col">Status</th>
                <th scope="col">Next runs</th>
                <th scope="col" class="hide-sm">
                  Recent runs
                </th>
                <th scope="col" class="num hide-sm">
                  Runs
                </th>
                {can("admin") && (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={s.name} data-schedule={s.name}>
                  <th scope="row">
                    <a href={link("schedules", s.name)}>{s.name}</a>
                  </th>
                  <td>
                    <code>{s.cron}</code> <span class="muted small">{s.timezone}</span>
                  </td>
                  <td class="hide-sm">{s.topic}</td>
                  <td>{status(s, true)}</td>
                  <td class="small">
                    {s.enabled && s.nextRuns.length ? (
                      s.nextRuns.map((r) => (
                        <div key={r}>
                          <Time at={r} />
                        </div>
                      ))
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td class="hide-sm">
                    <span class="runs">
                      {s.recentRuns.map((r) => (
                        <a key={r.taskId} href={link("tasks", r.taskId)} title={`${formatDate(r.tickAt)}: ${r.state ?? "pruned"}`}>
                          <StateBadge state={r.state} />
                        </a>
                      ))}
                      {!s.recentRuns.length && <span class="muted">none yet</span>}
                    </span>
                  </td>
                  <td class="num hide-sm">{s.runs}</td>
                  {can("admin") && (
                    <td>
                      <PauseResume s={s} done={() => void list.refresh()} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function ScheduleDetailPage({ name }: { name: string }) {
  const one = usePoll(
    (signal) => api<Schedule>(`/schedules/${encodeURIComponent(name)}`, { signal, query: { nextRuns: 10, recentRuns: 20, events: 50 } }),
    `schedule:${name}`,
    5000,
  );
  const s = one.data;
  return (
    <section>
      <PageHeader title={<>Schedule {name} {s && status(s)}</>} sub={s ? `${s.cron} (${s.timezone}) → ${s.topic}` : undefined} at={one.at}>
        {s && <PauseResume s={s} done={() => void one.refresh()} />}
      </PageHeader>
      <p class="crumbs">
        <a href={link("schedules")}>← All schedules</a>
      </p>
      <ErrorNote error={one.error} what="Schedule" />
      {!s ? (
        one.loading && <Loading />
      ) : (
        <>
          <div class="grid2">
            <section class="panel" aria-labelledby="sfacts">
              <h2 id="sfacts">Facts</h2>
              <Facts
                items={[
                  ["Status", s.enabled ? "active" : `disabled: ${s.disabledReason ?? "paused"}`],
                  ["Origin", s.origin === "code" ? "declared in code" : "created through the API"],
                  ["Overlap", s.overlap],
                  ["Check-in margin", formatDuration(s.checkinMarginMs)],
                  ["Max runtime", s.maxRuntimeMs !== null ? formatDuration(s.maxRuntimeMs) : null],
                  ["Runs", `${s.runs}${s.maxRuns !== null ? ` of at most ${s.maxRuns}` : ""}`],
                  ["Failures in a row", String(s.consecutiveFailures)],
                  ["Tags", <Tags tags={s.tags} />],
                  ["Last tick", <Time at={s.lastTickAt} exact />],
                ]}
              />
              <h3>Payload</h3>
              <JsonBlock value={s.payload} label="Payload" />
            </section>
            <section class="panel" aria-labelledby="next">
              <h2 id="next">Next runs</h2>
              {s.enabled && s.nextRuns.length ? (
                <ol class="plain-list">
                  {s.nextRuns.map((r) => (
                    <li key={r}>
                      {formatDate(r)} <span class="muted">({new Date(r) > new Date() ? "" : "due, "}<Time at={r} />)</span>
                    </li>
                  ))}
                </ol>
              ) : (
                <Empty>None while the schedule is not active.</Empty>
              )}
            </section>
          </div>
          <section class="panel" aria-labelledby="history">
            <h2 id="history">Runs</h2>
            {s.recentRuns.length === 0 ? (
              <Empty>No run yet.</Empty>
            ) : (
              <div class="table-scroll">
                <table class="data">
                  <thead>
                    <tr>
                      <th scope="col">Tick</th>
                      <th scope="col">Task</th>
                      <th scope="col">State</th>
                      <th scope="col" class="hide-sm">
                        Started
                      </th>
                      <th scope="col">Finished</th>
                      <th scope="col" class="hide-sm">
                        Error
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.recentRuns.map((r) => (
                      <tr key={r.taskId}>
                        <td>{formatDate(r.tickAt)}</td>
                        <td>
                          <a href={link("tasks", r.taskId)}>{r.taskId}</a>
                        </td>
                        <td>
                          <StateBadge state={r.state} />
                        </td>
                        <td class="hide-sm">
                          <Time at={r.startedAt} />
                        </td>
                        <td>
                          <Time at={r.finishedAt} />
                        </td>
                        <td class="hide-sm error-cell">{r.error?.message ?? ""}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section class="panel" aria-labelledby="sevents">
            <h2 id="sevents">Events</h2>
            {!s.events?.length ? (
              <Empty>No events.</Empty>
            ) : (
              <ol class="timeline">
                {s.events.map((e) => (
                  <li key={e.id} class={e.actor ? "op" : ""}>
                    <Time at={e.at} exact />
                    <div>
                      <div class="tl-title">
                        <span class="mono">{e.kind}</span>
                        {e.actor && <> by <strong>{e.actor}</strong></>}
                      </div>
                      {e.data != null && <code class="small">{JSON.stringify(e.data)}</code>}
                    </div>
                  </li>
                ))}
              </ol>
            )}
          </section>
        </>
      )}
    </section>
  );
}
