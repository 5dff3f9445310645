/**
 * The dashboard with 1m tasks in PostgreSQL: how long the API calls behind its pages take, and
 * how long the pages take to show in headless Chromium.
 *
 *   npx tsx bench/dashboard.ts [--tasks 1000000] [--repeat 20] [--setup worker|sql] [--profile] [--out file.json]
 *
 * Loads `--tasks` tasks with `tl.enqueueMany` in batches of 5,000 over ten topics (2% of them
 * fail with a fatal error, one topic has no worker and stays queued), runs the rest with a worker
 * (`--setup sql`: finishes them with two SQL statements instead, minutes faster), then serves the
 * database and measures, each `--repeat` times: the task list (first
 * page, a deep page, by state, by topic, a rare topic, searches by key, key prefix, id and text,
 * one that matches nothing), a task's detail, the stats, and the page loads (navigation to the
 * rows, the error or the search's note on screen).
 * `TASKLANE_BENCH_PG_URL` uses that server instead of a throwaway cluster. `--profile` prints
 * the browser's resource timings of one load of each page. Writes a markdown table to standard
 * output (and JSON with `--out`).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { FatalError, serve, silentLogger } from "./lib/library.js";
import { chromiumPath, launchChromium } from "../test/dashboard/browser.js";
import { ensureDatabase, freshSchema } from "./lib/db.js";
import { startPgCluster } from "../test/support/pg-cluster.js";
import pg from "pg";

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "1000000" },
    repeat: { type: "string", default: "20" },
    out: { type: "string" },
    // worker: run the tasks with a worker (realistic, minutes); sql: finish them with two statements (fast).
    setup: { type: "string", default: "worker" },
    profile: { type: "boolean", default: false },
  },
});
const total = Number(values.tasks);
const repeat = Number(values.repeat);
const log = (line: string) => process.stderr.write(`${line}\n`);

const topics = ["email.send", "invoice.render", "payment.charge", "stock.reserve", "shipping.book", "report.build", "sms.send", "webhook.deliver", "audit.write"];
/** Has no worker: its tasks stay `ready` (a backlog). 5% of the tasks. */
const backlogTopic = "export.csv";
/** A topic with one task in 10,000: filtering on it scans the most. */
const rareTopic = "legal.hold";

interface Timing {
  what: string;
  p50: number;
  p95: number;
  max: number;
  note?: string;
}

function summarise(what: string, samples: number[], note?: string): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { what, p50: at(0.5), p95: at(0.95), max: s[s.length - 1]!, note };
}

async function main(): Promise<void> {
  const adminUrl = process.env.TASKLANE_BENCH_PG_URL;
  const cluster = adminUrl ? undefined : await startPgCluster({ log });
  const url = await ensureDatabase(adminUrl ?? cluster!.url, "tasklane_bench");
  const schema = freshSchema();
  const server = await serve({ database: url, schema, port: 0, logger: silentLogger, bootstrapToken: false });
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  const results: Timing[] = [];
  const facts: Record<string, string | number> = { tasks: total };
  try {
    const tl = server.tl;
    const { token } = await tl.createToken({ name: "bench", scopes: ["admin"] });
    for (const t of topics) {
      tl.define(t, async (task) => {
        if ((task.payload as { fail?: boolean }).fail) throw new FatalError(`upstream refused order ${(task.payload as { order: number }).order}: 422 Unprocessable Entity`);
        return { ok: true };
      });
    }
    tl.define(rareTopic, async () => ({ held: true }));

    // Load.
    let t0 = performance.now();
    const batch = 5000;
    for (let done = 0; done < total; done += batch) {
      const items = [];
      for (let i = done; i < Math.min(total, done + batch); i++) {
        const topic = i % 10_000 === 5_000 ? rareTopic : i % 20 === 7 ? backlogTopic : topics[i % topics.length]!;
        items.push({ topic, payload: { order: i, customer: `c-${i % 9973}`, fail: i % 50 === 3 }, key: `order-${i}`, tags: i % 3 === 0 ? ["eu"] : [] });
      }
      await tl.enqueueMany(items);
      if ((done / batch) % 20 === 0) log(`enqueued ${done + items.length}`);
    }
    const loadS = (performance.now() - t0) / 1000;
    facts.enqueueSeconds = +loadS.toFixed(1);
    log(`enqueued ${total} in ${loadS.toFixed(1)} s`);

    t0 = performance.now();
    if (values.setup === "sql") {
      // What the worker would leave: every task but the backlog finished once, 2% failed.
      await raw.query(
        `UPDATE "${schema}".task SET attempt = 1, lease_token = 1, lease_owner = 'bench:1',
                attempted_at = created_at + interval '2 ms', started_at = created_at + interval '2 ms',
                finished_at = created_at + interval '30 ms',
                state = CASE WHEN (payload->>'fail')::boolean THEN 'failed' ELSE 'completed' END,
                result = CASE WHEN (payload->>'fail')::boolean THEN NULL ELSE '{"ok":true}'::jsonb END,
                error = CASE WHEN (payload->>'fail')::boolean THEN jsonb_build_object(
                  'message', format('upstream refused order %s: 422 Unprocessable Entity', payload->>'order'),
                  'name', 'FatalError', 'code', 'FATAL', 'attempt', 1,
                  'stack', 'FatalError: upstream refused' || chr(10) || '    at handler (bench/dashboard.ts:1:1)') END
          WHERE topic <> $1`,
        [backlogTopic],
      );
      await raw.query(
        `INSERT INTO "${schema}".task_attempt (task_id, lease_token, attempt, worker, started_at, finished_at, outcome, error)
         SELECT id, 1, 1, lease_owner, started_at, finished_at, 'failed', error FROM "${schema}".task WHERE state = 'failed'`,
      );
    } else {
      // Drain everything but the backlog topic.
      const worker = tl.worker({ topics: [...topics, rareTopic], concurrency: 200, tags: ["eu"] });
      await worker.start();
      const runnable = async () =>
        Number((await raw.query(`SELECT count(*)::int AS n FROM "${schema}".task WHERE state IN ('ready', 'running') AND topic <> $1`, [backlogTopic])).rows[0].n);
      for (let left = await runnable(); left > 0; left = await runnable()) {
        log(`draining: ${left} left`);
        await new Promise((r) => setTimeout(r, 5000));
      }
      await worker.stop({ graceMs: 1000 });
    }
    facts.setup = values.setup!;
    facts.drainSeconds = +((performance.now() - t0) / 1000).toFixed(1);
    // The steady state of a database that has been up a while: statistics are current.
    await raw.query(`VACUUM ANALYZE "${schema}".task`);
    const byState = (await raw.query(`SELECT state, count(*)::int AS n FROM "${schema}".task GROUP BY state ORDER BY state`)).rows as { state: string; n: number }[];
    facts.states = byState.map((r) => `${r.state} ${r.n}`).join(", ");
    log(`states: ${facts.states}`);

    // API calls.
    const call = async (path: string) => {
      const start = performance.now();
      const res = await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.text();
      const ms = performance.now() - start;
      if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
      return { ms, body: JSON.parse(body) as Record<string, unknown> };
    };
    const time = async (what: string, path: string, note?: string) => {
      await call(path); // warm: the first call also fills the token cache
      const samples: number[] = [];
      for (let i = 0; i < repeat; i++) samples.push((await call(path)).ms);
      const r = summarise(what, samples, note);
      log(`${what}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms`);
      results.push(r);
    };

    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) cursor = ((await call(`/tasks?limit=50${cursor ? `&cursor=${cursor}` : ""}`)).body.nextCursor as string) ?? null;
    const failedPage = (await call("/tasks?state=failed&limit=1")).body.tasks as { id: string; key: string }[];
    const failed = failedPage[0]!;
    // Keys are order-<n>: "order-0" is contained in no other key, and is the oldest task.
    const oldKey = "order-0";
    const oldId = ((await call(`/tasks?search=${oldKey}&limit=1`)).body.tasks as { id: string }[])[0]?.id ?? "1";

    await time("list, first page (50)", "/tasks?limit=50");
    await time("list, page 101 (keyset cursor)", `/tasks?limit=50&cursor=${cursor}`);
    await time("list, state=failed", "/tasks?state=failed&limit=50");
    await time("list, topic=email.send", "/tasks?topic=email.send&limit=50");
    await time("list, topic with 1 task in 10,000", `/tasks?topic=${rareTopic}&limit=50`);
    await time("list, tag=eu", "/tasks?tag=eu&limit=50");
    await time("search, a recent key", `/tasks?search=${encodeURIComponent(failed.key)}&limit=50`, "key-prefix index, then the scan");
    await time("search, the oldest key", `/tasks?search=${oldKey}&limit=50`, "key-prefix index: found at the far end");
    await time("search, a key prefix of 11 tasks", "/tasks?search=order-99999&limit=50", "key-prefix index");
    await time("search, a key prefix of every task", "/tasks?search=order-&limit=50", "too common to list: the scan");
    await time("search, an id", `/tasks?search=${oldId}&limit=50`, "primary key, then the scan");
    await time("search, error text (many matches)", `/tasks?search=${encodeURIComponent("422 Unprocessable")}&limit=50`, "the scan, stops at 50 matches");
    await time("search, a text no task has", `/tasks?search=${encodeURIComponent("no such text")}&limit=50`, "the scan's whole window (20,000 tasks)");
    // With fewer tasks than one window (a small --tasks), the first page has read them all.
    const bounded = (await call(`/tasks?search=${encodeURIComponent("no such text")}&limit=50`)).body.nextCursor as string | null;
    if (bounded) await time("search, a text no task has, next window", `/tasks?search=${encodeURIComponent("no such text")}&limit=50&cursor=${bounded}`, "the next 20,000 tasks");
    await time("search, an error text, state=failed", `/tasks?state=failed&search=${encodeURIComponent("order 1234")}&limit=50`, "the scan's window, through the state index");
    await time("task detail (failed task)", `/tasks/${failed.id}`);
    await time("task detail (oldest task)", `/tasks/${oldId}`);
    await time("stats (overview)", "/stats");
    await time("failed, newest 200 (overview card)", "/tasks?state=failed&limit=200");

    // Page loads in Chromium: from navigation to the data on screen, in a fresh tab each time.
    if (chromiumPath()) {
      const browser = await launchChromium();
      try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
        // Signed in earlier in this tab, as when a user opens a page of the dashboard.
        await context.addInitScript((t) => {
          sessionStorage.setItem("tasklane.token", t);
          sessionStorage.setItem("tasklane.identity", JSON.stringify({ name: "bench", scopes: ["admin"] }));
        }, token);
        const load = async (what: string, hash: string, selector: string) => {
          const samples: number[] = [];
          for (let i = 0; i < Math.min(repeat, 10) + 1; i++) {
            const page = await context.newPage();
            const start = performance.now();
            await page.goto(`${server.url}/${hash}`);
            await page.locator(selector).first().waitFor({ timeout: 30_000 });
            if (i > 0) samples.push(performance.now() - start); // the first warms the browser's cache
            if (values.profile && i === 1) {
              const entries = await page.evaluate(() =>
                performance.getEntries().map((e) => `${e.entryType} ${e.name.replace(location.origin, "")} at ${e.startTime.toFixed(0)} took ${e.duration.toFixed(0)}`),
              );
              log(`${what}:\n  ${entries.join("\n  ")}`);
            }
            await page.close();
          }
          const r = summarise(what, samples, "navigation → data on screen");
          log(`${what}: p50 ${r.p50.toFixed(0)} ms`);
          results.push(r);
        };
        await load("page: task list", "#/tasks", "table.tasks tbody tr");
        await load("page: task list, search by key", `#/tasks?search=${encodeURIComponent(failed.key)}`, "table.tasks tbody tr");
        if (bounded) await load("page: task list, search for a text no task has", `#/tasks?search=${encodeURIComponent("no such text")}`, "[data-testid=search-scope]");
        await load("page: task detail", `#/tasks/${failed.id}`, "[data-testid=error-message]");
        await load("page: overview", "#/", ".state-counts li");
      } finally {
        await browser.close();
      }
    } else {
      log("no Chromium: page loads not measured");
    }
  } finally {
    await raw.end();
    await server.close();
    await cluster?.stop();
  }

  const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  const lines = [
    `Dashboard benchmark, tasklane ${version}, ${new Date().toISOString().slice(0, 10)}: PostgreSQL, ${total.toLocaleString("en-US")} tasks (${facts.states}).`,
    `Loaded in ${facts.enqueueSeconds} s (enqueueMany, batches of 5,000), ${facts.setup === "sql" ? "finished by SQL" : "drained by a worker"} in ${facts.drainSeconds} s. Times over ${repeat} calls after one warm-up.`,
    "",
    "| what | p50 ms | p95 ms | max ms | note |",
    "|---|---:|---:|---:|---|",
    ...results.map((r) => `| ${r.what} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${r.note ?? ""} |`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (values.out) writeFileSync(values.out, JSON.stringify({ version, date: new Date().toISOString(), facts, results }, null, 2));
}

await main();
