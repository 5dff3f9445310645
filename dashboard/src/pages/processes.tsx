/** Processes: the list, and one process with its step graph, each step's state and why it waits. */
import { useState } from "preact/hooks";
import { api, can, post } from "../api";
import { ActionButton } from "../components/dialog";
import { StepGraph } from "../components/graph";
import { Empty, ErrorNote, Facts, JsonBlock, Loading, PageHeader, StateBadge, Time } from "../components/ui";
import { between, firstLine } from "../format";
import { usePoll } from "../live";
import { link, navigate } from "../router";
import { processStates, type Process, type ProcessPage } from "../types";

const pageSize = 50;
const stacks = new Map<string, string[]>();

export function ProcessesPage({ query }: { query: URLSearchParams }) {
  const state = query.get("state") ?? undefined;
  const name = query.get("name") ?? undefined;
  const cursor = query.get("cursor") ?? undefined;
  const filterKey = JSON.stringify({ state, name });
  const stack = stacks.get(filterKey) ?? [];
  const q = { state, name, limit: pageSize, cursor };
  const page = usePoll((signal) => api<ProcessPage>("/processes", { signal, query: q }), JSON.stringify(q), 5000);

  const apply = (e: Event) => {
    e.preventDefault();
    const f = e.currentTarget as HTMLFormElement;
    const v = (n: string) => (f.elements.namedItem(n) as HTMLInputElement).value.trim() || undefined;
    navigate(link("processes", { state: v("state"), name: v("name") }));
  };
  return (
    <section>
      <PageHeader title="Processes" sub="Newest first." at={page.at} />
      <form class="filters" onSubmit={apply} role="search" aria-label="Filter processes" key={filterKey}>
        <label class="field grow">
          <span>Name</span>
          <input type="search" name="name" defaultValue={name} placeholder="exact process name" />
        </label>
        <label class="field">
          <span>State</span>
          <select name="state" defaultValue={state ?? ""}>
            <option value="">any</option>
            {processStates.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <div class="filter-buttons">
          <button type="submit" class="btn primary">
            Apply
          </button>
          <a class="btn plain" href={link("processes")}>
            Reset
          </a>
        </div>
      </form>
      <ErrorNote error={page.error} what="Processes" />
      {page.loading && !page.data ? (
        <Loading />
      ) : !page.data?.processes.length ? (
        <Empty>No process matches.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Key</th>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col" class="hide-sm">
                  Took
                </th>
                <th scope="col" class="hide-sm">
                  Error
                </th>
              </tr>
            </thead>
            <tbody>
              {page.data.processes.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a class="mono" href={link("processes", p.id)}>
                      {p.id}
                    </a>
                  </td>
                  <td class="mono small">{p.key && <a href={link("processes", p.id)}>{p.key}</a>}</td>
                  <td>{p.name}</td>
                  <td>
                    <StateBadge state={p.state} />
                  </td>
                  <td>
                    <Time at={p.createdAt} />
                  </td>
                  <td class="hide-sm">{p.finishedAt ? between(p.createdAt, p.finishedAt) : <span class="muted">{between(p.createdAt)} so far</span>}</td>
                  <td class="hide-sm error-cell">{firstLine(p.error?.message, 80)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          class="btn plain"
          disabled={!cursor}
          onClick={() => {
            const prev = [...stack];
            const c = prev.pop();
            stacks.set(filterKey, prev);
            navigate(link("processes", { state, name, cursor: c || undefined }));
          }}
        >
          ← Newer
        </button>
        <span class="muted small">{cursor ? `page ${stack.length + 1}` : "newest"}</span>
        <button
          type="button"
          class="btn plain"
          disabled={!page.data?.nextCursor}
          onClick={() => {
            stacks.set(filterKey, [...stack, cursor ?? ""]);
            navigate(link("processes", { state, name, cursor: page.data!.nextCursor! }));
          }}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}

function ProcessActions({ p, done }: { p: Process; done(): void }) {
  const admin = can("admin");
  const start = can("start");
  const open = p.state === "running" || p.state === "suspended";
  if (!open || (!admin && !start)) return null;
  const ref = encodeURIComponent(p.id);
  return (
    <div class="actions" data-testid="process-actions">
      {admin && p.state === "running" && (
        <ActionButton label="Suspend" run={async () => (await post(`/processes/${ref}/suspend`), `Process ${p.id} suspended`)} done={done} />
      )}
      {admin && p.state === "suspended" && (
        <ActionButton label="Resume" run={async () => (await post(`/processes/${ref}/resume`), `Process ${p.id} resumed`)} done={done} />
      )}
      {start && (
        <ActionButton
          label="Send event"
          fields={[
            { name: "name", label: "Event name", required: true, placeholder: "payment.confirmed" },
            { name: "data", label: "Data (JSON, optional)", kind: "json" },
          ]}
          run={async ({ name, data }) => {
            const { woken } = await post<{ woken: string[] }>(`/processes/${ref}/events`, { name, ...(data?.trim() && { data: JSON.parse(data) }) });
            return `Event sent; woke ${woken.length} step${woken.length === 1 ? "" : "s"}`;
          }}
          done={done}
        />
      )}
      {admin && (
        <ActionButton
          label="Cancel process"
          variant="danger"
          confirm={<p>Cancel process {p.key ?? p.id} ({p.name})? Queued steps are cancelled and running ones aborted.</p>}
          run={async () => (await post(`/processes/${ref}/cancel`), `Process ${p.id} cancelled`)}
          done={done}
        />
      )}
    </div>
  );
}

export function ProcessDetailPage({ idOrKey }: { idOrKey: string }) {
  const proc = usePoll((signal) => api<Process>(`/processes/${encodeURIComponent(idOrKey)}`, { signal }), `process:${idOrKey}`, 3000);
  const [selected, setSelected] = useState<string | null>(null);
  const p = proc.data;
  const step = p?.steps.find((s) => s.name === selected) ?? null;
  return (
    <section>
      <PageHeader
        title={
          <>
            Process <span class="mono">{p?.key ?? idOrKey}</span> {p && <StateBadge state={p.state} />}
          </>
        }
        sub={p ? `${p.name} · id ${p.id}` : undefined}
        at={proc.at}
      >
        {p && <ProcessActions p={p} done={() => void proc.refresh()} />}
      </PageHeader>
      <p class="crumbs">
        <a href={link("processes")}>← All processes</a>
      </p>
      <ErrorNote error={proc.error} what="Process" />
      {!p ? (
        proc.loading && <Loading />
      ) : (
        <>
          {p.error && (
            <p class="notice error">
              {p.error.step ? <>Step <strong>{p.error.step}</strong>: </> : null}
              {p.error.message}
            </p>
          )}
          <section class="panel" aria-labelledby="graph">
            <h2 id="graph">Steps</h2>
            {p.steps.length === 0 ? <Empty>No steps.</Empty> : <StepGraph steps={p.steps} selected={selected} onSelect={(n) => setSelected(n === selected ? null : n)} />}
            {step && (
              <div class="step-detail" aria-live="polite" data-testid="step-detail">
                <h3>
                  {step.name} <StateBadge state={step.state} />
                </h3>
                {step.why && <p class="why">{step.why}</p>}
                <Facts
                  items={[
                    ["Task", <a href={link("tasks", step.taskId)}>{step.taskId}</a>],
                    ["Topic", step.topic],
                    ["Depends on", step.dependsOn.length ? step.dependsOn.join(", ") : null],
                    ["Attempt", `${step.attempt} of ${step.maxAttempts}`],
                    ["Started", <Time at={step.startedAt} />],
                    ["Finished", <Time at={step.finishedAt} />],
                  ]}
                />
                {step.error && <pre class="stack">{step.error.stack ?? step.error.message}</pre>}
                {step.result != null && <JsonBlock value={step.result} label={`Result of ${step.name}`} />}
              </div>
            )}
            <div class="table-scroll">
              <table class="data steps">
                <caption class="sr-only">Steps and why each is not running</caption>
                <thead>
                  <tr>
                    <th scope="col">Step</th>
                    <th scope="col">State</th>
                    <th scope="col" class="hide-sm">
                      Depends on
                    </th>
                    <th scope="col" class="num hide-sm">
                      Attempt
                    </th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {p.steps.map((s) => (
                    <tr key={s.name} data-step={s.name}>
                      <th scope="row">
                        <a href={link("tasks", s.taskId)}>{s.name}</a>
                      </th>
                      <td>
                        <StateBadge state={s.state} />
                      </td>
                      <td class="hide-sm small">{s.dependsOn.join(", ")}</td>
                      <td class="num hide-sm">
                        {s.attempt}/{s.maxAttempts}
                      </td>
                      <td class="small why-cell">{s.why ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <div class="grid2">
            <section class="panel" aria-labelledby="pfacts">
              <h2 id="pfacts">Facts</h2>
              <Facts
                items={[
                  ["Key", p.key],
                  ["Name", p.name],
                  ["Created", <Time at={p.createdAt} exact />],
                  ["Finished", <Time at={p.finishedAt} exact />],
                  ["Deadline", p.deadlineAt ? <Time at={p.deadlineAt} exact /> : null],
                ]}
              />
              <h3>Input</h3>
              <JsonBlock value={p.input} label="Process input" />
            </section>
            <section class="panel" aria-labelledby="output">
              <h2 id="output">Output</h2>
              {p.output ? <JsonBlock value={p.output} label="Process output" /> : <Empty>No output yet.</Empty>}
            </section>
          </div>
        </>
      )}
    </section>
  );
}
