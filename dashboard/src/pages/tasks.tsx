/** Tasks: the filtered list with keyset pagination, and one task with its timeline and actions. */
import type { ComponentChildren } from "preact";
import { useRef } from "preact/hooks";
import { api, can, post } from "../api";
import { useCapabilities } from "../capabilities";
import { ActionButton } from "../components/dialog";
import { Empty, ErrorNote, Facts, JsonBlock, Loading, PageHeader, StateBadge, Tags, Time } from "../components/ui";
import { between, firstLine, formatDate, localInputToIso } from "../format";
import { usePoll } from "../live";
import { link, navigate } from "../router";
import { taskStates, terminalStates, type Task, type TaskDetail, type TaskError, type TaskPage, type TaskState } from "../types";

const pageSize = 50;
const filterNames = ["state", "topic", "tag", "search", "from", "to"] as const;
type Filters = Partial<Record<(typeof filterNames)[number], string>>;

function filtersOf(query: URLSearchParams): Filters {
  const f: Filters = {};
  for (const n of filterNames) {
    const v = query.get(n);
    if (v) f[n] = v;
  }
  return f;
}

/** Cursors of the pages before the current one, per filter, for "Newer". */
const cursorStacks = new Map<string, string[]>();

export function TasksPage({ query }: { query: URLSearchParams }) {
  const caps = useCapabilities();
  const filters = filtersOf(query);
  const cursor = query.get("cursor") ?? undefined;
  const timeFilter = !!caps?.taskQuery.has("createdAfter");
  const filterKey = JSON.stringify(filters);
  const stack = cursorStacks.get(filterKey) ?? [];
  const formRef = useRef<HTMLFormElement>(null);

  const listQuery = {
    state: filters.state,
    topic: filters.topic,
    tag: filters.tag,
    search: filters.search,
    createdAfter: timeFilter ? localInputToIso(filters.from) : undefined,
    createdBefore: timeFilter ? localInputToIso(filters.to) : undefined,
    limit: pageSize,
    cursor,
  };
  const page = usePoll((signal) => api<TaskPage>("/tasks", { signal, query: listQuery }), JSON.stringify(listQuery), 5000);

  const apply = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const next: Record<string, string> = {};
    for (const n of filterNames) {
      const el = form.elements.namedItem(n) as HTMLInputElement | HTMLSelectElement | null;
      if (el?.value.trim()) next[n] = el.value.trim();
    }
    // A task id alone goes straight to that task (one lookup by primary key), where a search
    // would also list the tasks whose key or text contains it.
    if (next.search && /^[1-9]\d{0,18}$/.test(next.search) && Object.keys(next).length === 1) {
      try {
        await api<Task>(`/tasks/${next.search}`);
        navigate(link("tasks", next.search));
        return;
      } catch {
        // no such task: search as text
      }
    }
    navigate(link("tasks", next));
  };
  const older = () => {
    if (!page.data?.nextCursor) return;
    cursorStacks.set(filterKey, [...stack, cursor ?? ""]);
    navigate(link("tasks", { ...filters, cursor: page.data.nextCursor }));
  };
  const newer = () => {
    const prev = [...stack];
    const c = prev.pop();
    cursorStacks.set(filterKey, prev);
    navigate(link("tasks", { ...filters, cursor: c || undefined }));
  };

  // A search stops after a bounded number of tasks; the next page searches older ones.
  const bounded = !!page.data?.search?.bounded && !!page.data.nextCursor;
  const scannedTo = page.data?.search?.scannedTo ?? null;

  const bulkState = (["failed", "cancelled", "expired"] as const).find((s) => s === (filters.state ?? "failed"));
  const narrowing = [filters.tag && "tag", filters.search && "search", (filters.from || filters.to) && "time range"].filter(Boolean);

  return (
    <section>
      <PageHeader title="Tasks" sub="Newest first." at={page.at}>
        {can("admin") && bulkState && (
          <ActionButton
            label={`Retry all ${bulkState}${filters.topic ? ` of ${filters.topic}` : ""}`}
            variant="primary"
            testId="retry-all"
            confirm={
              <>
                <p>
                  Every <strong>{bulkState}</strong> task{filters.topic ? <> of topic <strong>{filters.topic}</strong></> : " of every topic"} runs once
                  more. This can be many tasks; it cannot be undone.
                </p>
                {narrowing.length > 0 && <p class="notice">The {narrowing.join(", ")} filter does not narrow this action: only state and topic do.</p>}
              </>
            }
            run={async () => {
              const { retried } = await post<{ retried: number }>("/tasks/retry-all", { state: bulkState, ...(filters.topic && { topic: filters.topic }) });
              return `Retried ${retried} task${retried === 1 ? "" : "s"}`;
            }}
            done={() => void page.refresh()}
          />
        )}
      </PageHeader>

      <form class="filters" onSubmit={(e) => void apply(e)} ref={formRef} role="search" aria-label="Filter tasks" key={filterKey}>
        <label class="field grow">
          <span>Search</span>
          <input type="search" name="search" defaultValue={filters.search} placeholder="id, start of a key, or part of a topic, key or error  ( / )" />
        </label>
        <label class="field">
          <span>State</span>
          <select name="state" defaultValue={filters.state ?? ""}>
            <option value="">any</option>
            {taskStates.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Topic</span>
          <input name="topic" defaultValue={filters.topic} placeholder="exact topic" autoComplete="off" />
        </label>
        <label class="field">
          <span>Tag</span>
          <input name="tag" defaultValue={filters.tag} autoComplete="off" />
        </label>
        <label class="field">
          <span>Created from</span>
          <input name="from" type="datetime-local" step="1" defaultValue={filters.from} disabled={!timeFilter} />
        </label>
        <label class="field">
          <span>Created until</span>
          <input name="to" type="datetime-local" step="1" defaultValue={filters.to} disabled={!timeFilter} />
        </label>
        <div class="filter-buttons">
          <button type="submit" class="btn primary">
            Apply
          </button>
          <a class="btn plain" href={link("tasks")}>
            Reset
          </a>
        </div>
        {caps && !timeFilter && <p class="muted small full">This server's API has no time-range filter for tasks yet, so the time fields are off.</p>}
      </form>

      <ErrorNote error={page.error} what="Tasks" />
      {page.loading && !page.data ? (
        <Loading />
      ) : !page.data?.tasks.length ? (
        <Empty>{bounded ? "No match among the tasks searched so far." : cursor ? "No more tasks." : "No task matches."}</Empty>
      ) : (
        <TaskTable tasks={page.data.tasks} />
      )}
      {bounded && (
        <p class="muted small search-scope" data-testid="search-scope">
          Searched the tasks down to{" "}
          <a href={link("tasks", scannedTo!)} class="mono">
            #{scannedTo}
          </a>{" "}
          for text; older tasks are not searched yet (<strong>Search older</strong>). The task with this id and tasks whose key starts with it
          are found however old.
        </p>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" class="btn plain" onClick={newer} disabled={!cursor}>
          ← Newer
        </button>
        <span class="muted small">{cursor ? `page ${stack.length + 1}` : "newest"} · {pageSize} a page</span>
        <button type="button" class="btn plain" onClick={older} disabled={!page.data?.nextCursor} data-testid="older">
          {bounded ? "Search older →" : "Older →"}
        </button>
      </nav>
    </section>
  );
}

export function TaskTable({ tasks }: { tasks: Task[] }) {
  return (
    <div class="table-scroll">
      <table class="data tasks">
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Topic</th>
            <th scope="col">State</th>
            <th scope="col" class="num">
              Attempt
            </th>
            <th scope="col" class="hide-sm">
              Key
            </th>
            <th scope="col" class="hide-sm">
              Tags
            </th>
            <th scope="col">Created</th>
            <th scope="col" class="hide-sm">
              Error
            </th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={t.id}>
              <td>
                <a href={link("tasks", t.id)} class="mono">
                  {t.id}
                </a>
              </td>
              <td>{t.topic}</td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td class="num">
                {t.attempt}/{t.maxAttempts}
              </td>
              <td class="hide-sm mono small">{t.key ?? ""}</td>
              <td class="hide-sm">
                <Tags tags={t.tags} />
              </td>
              <td>
                <Time at={t.createdAt} />
              </td>
              <td class="hide-sm error-cell" title={t.error?.message}>
                {firstLine(t.error?.message, 80)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Entry {
  at: string;
  title: ComponentChildren;
  tone?: "ok" | "bad" | "warn" | "op";
  detail?: ComponentChildren;
}

function ErrorDetail({ error }: { error: TaskError | null }) {
  if (!error) return null;
  return (
    <details>
      <summary>{firstLine(error.message, 200)}</summary>
      {error.stack && <pre class="stack">{error.stack}</pre>}
    </details>
  );
}

/** Everything that happened to the task, oldest first. */
function timeline(t: TaskDetail): Entry[] {
  // runAt moves with each retry: it says when the task was meant to run only before its first attempt.
  const delayed = t.attempt === 0 && new Date(t.runAt) > new Date(t.createdAt);
  const entries: Entry[] = [{ at: t.createdAt, title: "Enqueued", detail: delayed ? `to run at ${formatDate(t.runAt)}` : undefined }];
  const recorded = new Set(t.attempts.map((a) => a.attempt));
  for (const a of t.attempts) {
    if (a.startedAt) entries.push({ at: a.startedAt, title: `Attempt ${a.attempt} started`, detail: a.workerId ? `on ${a.workerId}` : undefined });
    entries.push({
      at: a.finishedAt,
      title: `Attempt ${a.attempt} ${a.outcome.replace(/_/g, " ")}`,
      tone: a.outcome === "cancelled" ? "warn" : "bad",
      detail: (
        <>
          {a.startedAt && <span class="muted">after {between(a.startedAt, a.finishedAt)}. </span>}
          <ErrorDetail error={a.error} />
        </>
      ),
    });
  }
  for (const e of t.events) {
    const op = !!e.actor;
    entries.push({
      at: e.at,
      title: (
        <>
          <span class="mono">{e.kind}</span>
          {op && <> by <strong>{e.actor}</strong></>}
        </>
      ),
      tone: op ? "op" : "warn",
      detail: e.data && typeof e.data === "object" && Object.keys(e.data).length ? <code class="small">{JSON.stringify(e.data)}</code> : undefined,
    });
  }
  // The latest attempt, when it is not among the recorded failures: running now, or the one that
  // finished the task. `startedAt` is the first attempt's start; a later attempt's start is
  // `attemptedAt` where the API gives it.
  const latestStart = t.attemptedAt ?? (t.attempt === 1 ? t.startedAt : null);
  if (t.attempt > 0 && !recorded.has(t.attempt)) {
    if (latestStart) entries.push({ at: latestStart, title: `Attempt ${t.attempt} started`, detail: t.workerId ? `on ${t.workerId}` : undefined });
    if (t.state === "running" && t.heartbeatAt && t.heartbeatAt !== t.startedAt) {
      entries.push({
        at: t.heartbeatAt,
        title: "Last heartbeat",
        detail: (
          <>
            {t.leaseExpiresAt && <span>lease until {formatDate(t.leaseExpiresAt)}. </span>}
            {t.progress != null && <code class="small">progress {JSON.stringify(t.progress)}</code>}
          </>
        ),
      });
    }
  }
  if (t.finishedAt && (t.state === "completed" || !recorded.has(t.attempt))) {
    entries.push({
      at: t.finishedAt,
      title: t.state === "completed" ? `Completed${t.attempt ? ` (attempt ${t.attempt})` : ""}` : `Ended: ${t.state}`,
      tone: t.state === "completed" ? "ok" : "bad",
      detail: latestStart && t.state === "completed" ? `in ${between(latestStart, t.finishedAt)}` : undefined,
    });
  }
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}

export function TaskActions({ task, done }: { task: Task; done(): void }) {
  const s = task.state;
  const admin = can("admin");
  const start = can("start");
  if (!admin && !start) return null;
  const act = (name: string) => async () => {
    await post(`/tasks/${task.id}/${name}`);
  };
  const not = (states: TaskState[]) => !states.includes(s);
  return (
    <div class="actions" data-testid="task-actions">
      {admin && ["failed", "cancelled", "expired"].includes(s) && (
        <ActionButton label="Retry" variant="primary" run={async () => (await act("retry")(), `Task ${task.id} queued again`)} done={done} />
      )}
      {admin && ["pending", "ready", "waiting"].includes(s) && <ActionButton label="Suspend" run={async () => (await act("suspend")(), `Task ${task.id} suspended`)} done={done} />}
      {admin && s === "suspended" && <ActionButton label="Resume" run={async () => (await act("resume")(), `Task ${task.id} resumed`)} done={done} />}
      {admin && not(["completed", "cancelled"]) && (
        <ActionButton
          label="Mark done"
          fields={[{ name: "result", label: "Result (JSON, optional)", kind: "json", placeholder: '{ "done": "by hand" }', hint: "Stored as the task's result. A running attempt is aborted." }]}
          run={async ({ result }) => {
            await post(`/tasks/${task.id}/complete`, result?.trim() ? { result: JSON.parse(result) } : {});
            return `Task ${task.id} marked done`;
          }}
          done={done}
        />
      )}
      {start && s === "waiting" && (
        <ActionButton
          label="Send event"
          fields={[
            { name: "name", label: "Event name", required: true, placeholder: "payment.confirmed" },
            { name: "data", label: "Data (JSON, optional)", kind: "json" },
          ]}
          run={async ({ name, data }) => {
            const { woken } = await post<{ woken: string[] }>(`/tasks/${task.id}/events`, { name, ...(data?.trim() && { data: JSON.parse(data) }) });
            return `Event sent; woke ${woken.length} task${woken.length === 1 ? "" : "s"}`;
          }}
          done={done}
        />
      )}
      {admin && !terminalStates.includes(s) && (
        <ActionButton
          label="Cancel"
          variant="danger"
          confirm={<p>Cancel task {task.id} ({task.topic})?{s === "running" ? " Its running attempt is aborted on whichever node runs it." : ""}</p>}
          run={async () => (await act("cancel")(), `Task ${task.id} cancelled`)}
          done={done}
        />
      )}
    </div>
  );
}

export function TaskDetailPage({ id }: { id: string }) {
  const task = usePoll((signal) => api<TaskDetail>(`/tasks/${encodeURIComponent(id)}`, { signal }), `task:${id}`, 3000);
  const t = task.data;
  return (
    <section>
      <PageHeader
        title={
          <>
            Task <span class="mono">{id}</span> {t && <StateBadge state={t.state} />}
          </>
        }
        sub={t ? t.topic : undefined}
        at={task.at}
      >
        {t && <TaskActions task={t} done={() => void task.refresh()} />}
      </PageHeader>
      <p class="crumbs">
        <a href={link("tasks")}>← All tasks</a>
      </p>
      <ErrorNote error={task.error} what="Task" />
      {!t ? (
        task.loading && <Loading />
      ) : (
        <>
          <div class="grid2">
            <section class="panel" aria-labelledby="facts">
              <h2 id="facts">Facts</h2>
              <Facts
                items={[
                  ["Topic", <a href={link("tasks", { topic: t.topic })}>{t.topic}</a>],
                  ["Key", t.key && <span class="mono">{t.key}</span>],
                  ["Attempt", `${t.attempt} of ${t.maxAttempts}`],
                  ["Priority", String(t.priority)],
                  ["Tags", <Tags tags={t.tags} />],
                  ["Process", t.processId && <a href={link("processes", t.processId)}>{`${t.processId}${t.step ? ` · step ${t.step}` : ""}`}</a>],
                  ["Worker", t.workerId && <span class="mono small">{t.workerId}</span>],
                  ["Run at", <Time at={t.runAt} exact />],
                  ["Created", <Time at={t.createdAt} exact />],
                  ["First started", <Time at={t.startedAt} exact />],
                  ["Finished", <Time at={t.finishedAt} exact />],
                  ["Last heartbeat", t.state === "running" && t.heartbeatAt ? <Time at={t.heartbeatAt} /> : null],
                ]}
              />
            </section>
            <section class="panel" aria-labelledby="timeline">
              <h2 id="timeline">Timeline</h2>
              <ol class="timeline">
                {timeline(t).map((e, i) => (
                  <li key={i} class={e.tone ?? ""}>
                    <Time at={e.at} exact />
                    <div>
                      <div class="tl-title">{e.title}</div>
                      {e.detail && <div class="tl-detail">{e.detail}</div>}
                    </div>
                  </li>
                ))}
              </ol>
            </section>
          </div>
          {t.error && (
            <section class="panel" aria-labelledby="error">
              <h2 id="error">Error</h2>
              <p class="error-message" data-testid="error-message">
                {t.error.name && <strong>{t.error.name}: </strong>}
                {t.error.message}
              </p>
              <p class="muted small">
                attempt {t.error.attempt}
                {t.error.code && ` · code ${t.error.code}`}
                {t.error.businessCode && ` · business code ${t.error.businessCode}`}
              </p>
              {t.error.stack && <pre class="stack" tabIndex={0} aria-label="Stack trace">{t.error.stack}</pre>}
            </section>
          )}
          <div class="grid2">
            <section class="panel" aria-labelledby="payload">
              <h2 id="payload">Payload</h2>
              <JsonBlock value={t.payload} label="Payload" />
            </section>
            <section class="panel" aria-labelledby="result">
              <h2 id="result">Result</h2>
              {t.state === "completed" || t.result != null ? <JsonBlock value={t.result} label="Result" /> : <Empty>No result yet.</Empty>}
            </section>
          </div>
        </>
      )}
    </section>
  );
}
