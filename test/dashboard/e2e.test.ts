/**
 * The dashboard end to end: a real server (PGlite in memory) with a worker, driven in headless
 * Chromium. Screenshots of every page go to a temporary directory, or to docs/dashboard/ with
 * TASKLANE_SCREENSHOTS=docs (how the ones in docs/dashboard.md are made).
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromiumPath, launchChromium } from "./browser.js";
import { startFixture, until, type DashboardFixture } from "./fixture.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const shots = process.env.TASKLANE_SCREENSHOTS === "docs" ? join(root, "docs/dashboard") : mkdtempSync(join(tmpdir(), "tasklane-shots-"));
mkdirSync(shots, { recursive: true });

// Without Chromium the browser tests are skipped locally; CI installs it, so there they must run.
const hasBrowser = !!chromiumPath() || !!process.env.CI;

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  // Let polling settle and fonts render before the picture.
  await page.waitForTimeout(150);
  // Without the messages of earlier actions, which would cover part of the page. (Through the
  // DOM: the page's content security policy refuses an injected style sheet.)
  await page.evaluate(() => document.querySelectorAll<HTMLElement>(".toasts").forEach((e) => (e.style.display = "none")));
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
  await page.evaluate(() => document.querySelectorAll<HTMLElement>(".toasts").forEach((e) => (e.style.display = "")));
}

async function signIn(context: BrowserContext, url: string, token: string): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(url);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview", exact: true }).waitFor();
  return page;
}

describe.skipIf(!hasBrowser)("dashboard in Chromium", () => {
  let fx: DashboardFixture;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [fx, browser] = await Promise.all([startFixture(), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 820 }, colorScheme: "light" });
  });

  // A failed step leaves a picture of what the page showed.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && page && !page.isClosed()) {
      await page.screenshot({ path: join(shots, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}.png`), fullPage: true }).catch(() => {});
      console.error(`dashboard test failed; screenshot in ${shots}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  it("serves the page and its hashed assets from the server itself, with a strict content security policy", async () => {
    const res = await fetch(`${fx.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).toContain("connect-src 'self'");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => `/${m[1]!}`);
    expect(assets).toHaveLength(2);
    // Nothing from another host.
    expect(html).not.toMatch(/https?:\/\//);
    for (const path of assets) {
      const asset = await fetch(fx.url + path);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("cache-control")).toContain("immutable");
      expect((await asset.arrayBuffer()).byteLength).toBeLessThan(100 * 1024);
    }
    expect((await fetch(`${fx.url}/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${fx.url}/assets/missing.js`)).status).toBe(404);
  });

  it("refuses a wrong token and signs in with an admin token", async () => {
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    await page.goto(fx.url);
    await page.getByLabel("API token").fill("tl_not-a-real-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor();
    await page.getByLabel("API token").fill("");
    await shot(page, "sign-in");
    await page.getByLabel("API token").fill(fx.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview", exact: true }).waitFor();
    expect(await page.getByTestId("who").textContent()).toContain("admin");
  });

  it("overview: counts by state and topic, workers alive, failures in the last hour, schedules due, charts", async () => {
    await page.getByTestId("workers-alive").getByText("1", { exact: true }).waitFor();
    await page.getByTestId("failures-hour").getByText("1", { exact: true }).waitFor();
    await page.getByRole("heading", { name: "Tasks by topic", exact: true }).waitFor();
    await page.getByRole("rowheader", { name: "invoice.render" }).waitFor();
    await page.getByRole("link", { name: "nightly-report" }).first().waitFor();
    // The charts fill as samples arrive (every 5 s): some work in bursts, for lines that move.
    await page.locator("svg[aria-label^='Queue: ready']").waitFor();
    for (let burst = 0; burst < 3; burst++) {
      await fx.server.tl.enqueueMany(Array.from({ length: 150 * (burst + 1) }, (_, i) => ({ topic: "email.send", payload: { to: `news${i}@example.com` } })));
      await page.waitForTimeout(5000);
    }
    await until(async () => ((await page.locator(".chart-svg path.line.s-completed").getAttribute("d"))?.split("L").length ?? 0) >= 3, 20_000, "three samples");
    expect(await page.locator("svg[aria-label^='Throughput']").getAttribute("aria-label")).toMatch(/completed \d/);
    await shot(page, "overview");
  });

  it("finds a failed task by search, reads its error, retries it and sees it complete", async () => {
    await page.getByRole("link", { name: "Tasks", exact: true }).click();
    await page.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
    await page.getByRole("searchbox", { name: "Search" }).fill("invoice-4711");
    await page.keyboard.press("Enter");
    await page.getByRole("link", { name: fx.failedTaskId, exact: true }).waitFor();
    expect(await page.locator("table.tasks tbody tr").count()).toBe(1);
    await shot(page, "tasks-search");
    await page.getByRole("link", { name: fx.failedTaskId, exact: true }).click();
    await page.getByTestId("error-message").waitFor();
    expect(await page.getByTestId("error-message").textContent()).toContain("PDF renderer crashed: font 'Helvetica-Bold' is missing");
    expect(await page.getByLabel("Stack trace").textContent()).toMatch(/RenderError|at /);
    await page.getByRole("heading", { name: "Timeline", exact: true }).waitFor();
    await shot(page, "task-failed");

    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByRole("status").getByText(`Task ${fx.failedTaskId} queued again`).waitFor();
    await page.locator("h1 .badge", { hasText: "completed" }).waitFor();
    await page.getByText("RETRIED").first().waitFor();
    await page.getByText("ops-admin").first().waitFor();
    expect((await fx.server.tl.getTask(fx.failedTaskId))?.state).toBe("completed");
    await page.getByRole("heading", { name: "Result", exact: true }).waitFor();
    await shot(page, "task-retried");
  });

  it("opens a task straight away when the search is its id", async () => {
    await page.goto(`${fx.url}/#/tasks`);
    await page.getByRole("searchbox", { name: "Search" }).fill(fx.failedTaskId);
    await page.keyboard.press("Enter");
    await page.waitForURL(`**/#/tasks/${fx.failedTaskId}`);
    await page.getByRole("heading", { name: "Timeline", exact: true }).waitFor();
  });

  it("filters tasks by creation time with the time-range fields", async () => {
    const tl = fx.server.tl;
    // Three tasks created in three different seconds (the fields take whole seconds): wait for
    // the clock to pass into the next second before each.
    const made: { id: string; createdAt: Date }[] = [];
    for (let i = 0; i < 3; i++) {
      const previous = made.at(-1);
      if (previous) {
        const nextSecond = Math.floor(previous.createdAt.getTime() / 1000) * 1000 + 1000;
        await until(async () => Date.now() >= nextSecond, 5_000, "the next second");
      }
      made.push(await tl.enqueue("range.probe", { n: i }));
    }
    // The value of a datetime-local field for the whole second of `at`, in the browser's time zone,
    // normalised as the field reports it: without the seconds when they are zero.
    const field = (at: Date) =>
      page.evaluate((ms) => {
        const d = new Date(Math.floor(ms / 1000) * 1000);
        const p = (n: number) => String(n).padStart(2, "0");
        const seconds = d.getSeconds() === 0 ? "" : `:${p(d.getSeconds())}`;
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${seconds}`;
      }, at.getTime());
    const rows = page.locator("table.tasks tbody tr");
    const ids = async () => (await rows.locator("td:first-child a").allTextContents()).map((t) => t.trim());

    await page.goto(`${fx.url}/#/tasks?topic=range.probe`);
    await page.getByRole("link", { name: made[0]!.id, exact: true }).waitFor();
    expect(await ids()).toEqual([made[2]!.id, made[1]!.id, made[0]!.id]);

    // From the second task's second (inclusive) until the third's (exclusive): the second only.
    await page.getByLabel("Created from").fill(await field(made[1]!.createdAt));
    await page.getByLabel("Created until").fill(await field(made[2]!.createdAt));
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/[?&]from=.*&to=/);
    await until(async () => (await ids()).join() === made[1]!.id, 15_000, "the list to show the middle task only");
    await shot(page, "tasks-time-range");

    // From only: the two newest. The filters stay in the address.
    await page.getByLabel("Created until").fill("");
    await page.getByRole("button", { name: "Apply" }).click();
    await until(async () => (await ids()).join() === [made[2]!.id, made[1]!.id].join(), 15_000, "the two newest tasks");
    expect(page.url()).toContain("from=");
    expect(page.url()).not.toContain("to=");
    await page.reload();
    await until(async () => (await ids()).join() === [made[2]!.id, made[1]!.id].join(), 15_000, "the same list after a reload");
    expect(await page.getByLabel("Created from").inputValue()).toBe(await field(made[1]!.createdAt));
  });

  it("retries all failed tasks of a topic after a confirmation", async () => {
    const tl = fx.server.tl;
    const ids = await Promise.all([1, 2].map(async (i) => (await tl.enqueue("invoice.render", { invoice: 4800 + i, crashOnce: true })).id));
    await until(async () => (await Promise.all(ids.map((id) => tl.getTask(id)))).every((t) => t?.state === "failed"), 15_000, "two failures");
    await page.goto(`${fx.url}/#/tasks?state=failed&topic=invoice.render`);
    await page.getByRole("link", { name: ids[0]!, exact: true }).waitFor();
    await page.getByTestId("retry-all").click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("runs once more").waitFor();
    await shot(page, "tasks-retry-all", false);
    await dialog.getByRole("button", { name: /^Retry all failed/ }).click();
    await page.getByRole("status").getByText("Retried 2 tasks").waitFor();
    await until(async () => (await Promise.all(ids.map((id) => tl.getTask(id)))).every((t) => t?.state === "completed"), 15_000, "both to complete");
  });

  it("shows a process's step graph and why steps wait; cancelling it stops its steps", async () => {
    await page.getByRole("link", { name: "Processes", exact: true }).click();
    await page.getByRole("link", { name: fx.processKey }).waitFor();
    await shot(page, "processes");
    await page.getByRole("link", { name: fx.processKey }).click();
    const charge = page.locator("g.node[data-step=charge]");
    await charge.waitFor();
    expect(await charge.getAttribute("class")).toContain("state-running");
    await page.locator("tr[data-step=ship] .why-cell", { hasText: 'waiting for "charge"' }).waitFor();
    // Keyboard: a step of the graph is focusable and Enter shows its detail.
    await page.locator("g.node[data-step=ship]").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("step-detail").getByText('waiting for "charge"').waitFor();
    await shot(page, "process-running");

    await page.getByRole("button", { name: "Cancel process…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel process" }).click();
    await page.locator("h1 .badge", { hasText: "cancelled" }).waitFor();
    await until(async () => (await charge.getAttribute("class"))?.includes("state-cancelled"), 15_000, "the charge step to show cancelled");
    for (const step of ["ship", "receipt"]) {
      expect(await page.locator(`g.node[data-step=${step}]`).getAttribute("class")).toContain("state-cancelled");
    }
    const proc = await fx.server.tl.getProcess(fx.processKey);
    expect(proc?.state).toBe("cancelled");
    expect(proc?.steps.find((s) => s.name === "charge")?.state).toBe("cancelled");
    await shot(page, "process-cancelled");
  });

  it("pauses a schedule", async () => {
    await page.getByRole("link", { name: "Schedules", exact: true }).click();
    const row = page.locator(`tr[data-schedule=${fx.scheduleName}]`);
    await row.getByText("active").waitFor();
    await shot(page, "schedules");
    await page.getByTestId(`pause-${fx.scheduleName}`).click();
    await page.getByRole("dialog").getByRole("button", { name: "Pause" }).click();
    await row.getByText("paused", { exact: true }).waitFor();
    expect((await fx.server.tl.getSchedule(fx.scheduleName))?.enabled).toBe(false);
    await row.getByRole("link", { name: fx.scheduleName }).click();
    await page.getByText("PAUSED", { exact: true }).waitFor();
    await page.getByTestId(`resume-${fx.scheduleName}`).waitFor();
    await shot(page, "schedule");
  });

  it("lists workers with host, tags, topics, last seen and what they run", async () => {
    const charge = await fx.server.tl.enqueue("payment.charge", { order: 99 });
    await until(async () => (await fx.server.tl.getTask(charge.id))?.state === "running", 15_000, "a running task");
    await page.getByRole("link", { name: "Workers", exact: true }).click();
    await page.getByText(fx.worker.id).waitFor();
    await page.getByText("eu", { exact: true }).first().waitFor();
    await page.getByRole("link", { name: charge.id, exact: true }).waitFor();
    await shot(page, "workers");
  });

  it("lists each operator action with the name of its token in the audit log, and no system events", async () => {
    const tl = fx.server.tl;
    // System events, without an actor: a task that no worker starts in time expires, and a
    // schedule created from code.
    const unstarted = await tl.enqueue("audit.unclaimed", null, { timeouts: { scheduleToStartMs: 1 } });
    await tl.createSchedule("audit-demo", { cron: "30 4 * * *", topic: "report.build" });
    // An action in the dashboard, by the signed-in token (ops-admin): suspend a delayed task.
    const delayed = await tl.enqueue("report.build", { month: "2026-08" }, { runAt: new Date(Date.now() + 3_600_000) });
    await page.goto(`${fx.url}/#/tasks/${delayed.id}`);
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.getByRole("status").getByText(`Task ${delayed.id} suspended`).waitFor();
    // Then an action through the API with another token: its name is the actor.
    const { token } = await tl.createToken({ name: "night-shift", scopes: ["admin"] });
    const res = await fetch(`${fx.url}/api/v1/schedules/audit-demo/pause`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await until(async () => (await tl.getTask(unstarted.id))?.state === "expired", 15_000, "the unstarted task to expire");
    const everything = (await tl.listEvents({ limit: 1000 })).events;
    expect(everything.find((e) => e.taskId === unstarted.id)).toMatchObject({ kind: "TASK_SCHEDULE_TO_START_TIMEOUT", actor: null });
    expect(everything.find((e) => e.schedule === "audit-demo" && e.kind === "CREATED")).toMatchObject({ actor: null });

    await page.getByRole("link", { name: "Audit log", exact: true }).click();
    const table = page.getByTestId("audit-table");
    const rowOf = (target: string) => table.locator("tbody tr", { has: page.getByRole("link", { name: target, exact: true }) });
    const paused = rowOf("schedule audit-demo");
    const suspended = rowOf(`task ${delayed.id}`);
    await paused.waitFor();
    await suspended.waitFor();
    expect(await paused.locator("td").allTextContents()).toEqual([expect.any(String), "night-shift", "PAUSED", "schedule audit-demo", ""]);
    expect((await suspended.locator("td").allTextContents()).slice(1, 4)).toEqual(["ops-admin", "SUSPENDED", `task ${delayed.id}`]);
    // Newest first: the pause came after the suspension.
    const targets = await table.locator("tbody tr td:nth-child(4)").allTextContents();
    expect(targets.indexOf("schedule audit-demo")).toBeLessThan(targets.indexOf(`task ${delayed.id}`));
    // Operator actions only: the expiry and the schedule's creation from code are not listed.
    expect(await rowOf(`task ${unstarted.id}`).count()).toBe(0);
    expect(await table.getByText("TASK_SCHEDULE_TO_START_TIMEOUT").count()).toBe(0);
    expect(await paused.count()).toBe(1);
    expect(await table.locator("tbody tr td:nth-child(2)").allTextContents()).not.toContain("system");
    await shot(page, "audit");
  });

  it("a read-only token sees no action controls, and the API refuses its actions", async () => {
    const readContext = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    try {
      const ro = await signIn(readContext, fx.url, fx.readToken);
      // The token's name shows when the server has GET /api/v1/whoami; its scope always does.
      expect(await ro.getByTestId("who").textContent()).toMatch(/viewer|read/);
      const failedId = (await fx.server.tl.enqueue("invoice.render", { invoice: 4900, crashOnce: true })).id;
      await until(async () => (await fx.server.tl.getTask(failedId))?.state === "failed", 15_000, "a failure");

      await ro.goto(`${fx.url}/#/tasks/${failedId}`);
      await ro.getByTestId("error-message").waitFor();
      await ro.getByRole("heading", { name: "Timeline", exact: true }).waitFor();
      expect(await ro.getByTestId("task-actions").count()).toBe(0);
      expect(await ro.getByRole("button", { name: /Retry|Cancel|Suspend|Resume|Mark done|Send event/ }).count()).toBe(0);

      await ro.goto(`${fx.url}/#/tasks?state=failed`);
      await ro.getByRole("link", { name: failedId, exact: true }).waitFor();
      expect(await ro.getByTestId("retry-all").count()).toBe(0);

      await ro.goto(`${fx.url}/#/processes/order-4700`);
      await ro.locator("g.node").first().waitFor();
      expect(await ro.getByTestId("process-actions").count()).toBe(0);

      await ro.goto(`${fx.url}/#/schedules`);
      await ro.locator(`tr[data-schedule=hourly-sync]`).waitFor();
      expect(await ro.getByRole("button", { name: /Pause|Resume/ }).count()).toBe(0);
      await shot(ro, "read-only-schedules");

      const status = await ro.evaluate(async ([id, token]) => {
        const res = await fetch(`/api/v1/tasks/${id}/retry`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
        return res.status;
      }, [failedId, fx.readToken] as const);
      expect(status).toBe(403);
      expect((await fx.server.tl.getTask(failedId))?.state).toBe("failed");
    } finally {
      await readContext.close();
    }
  });

  it("fits a phone screen and works from the keyboard", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const p = await signIn(phone, fx.url, fx.adminToken);
      // No sideways scrolling of the page itself.
      expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await shot(p, "phone-overview");
      await p.getByRole("button", { name: "Menu" }).click();
      await p.getByRole("link", { name: "Tasks", exact: true }).click();
      await p.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
      expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await p.goto(`${fx.url}/#/tasks/${fx.failedTaskId}`);
      await p.getByRole("heading", { name: "Timeline", exact: true }).waitFor();
      await shot(p, "phone-task");
    } finally {
      await phone.close();
    }

    // Keyboard only. A new page moves focus to its heading (screen readers announce it); from
    // the top of the page, the skip link comes first, then the menu.
    await page.goto(`${fx.url}/#/tasks`);
    await page.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("page-title");
    await page.reload();
    await page.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    for (let i = 0; i < 3; i++) await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Tasks");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    // "/" jumps to the search box.
    await page.locator("body").click({ position: { x: 5, y: 400 } });
    await page.keyboard.press("/");
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe("search");
  });

  it("a search reads a bounded number of tasks per page and searches older ones on request", async () => {
    const tl = fx.server.tl;
    // One task, then 20,000 newer ones: more than one page of a search reads (20,000).
    const needle = await tl.enqueue("archive.pack", { crate: 77 }, { key: "archive-crate-77" });
    for (let i = 0; i < 4; i++) await tl.enqueueMany(Array.from({ length: 5_000 }, (_, n) => ({ topic: "bulk.filler", payload: { n: i * 5_000 + n } })));

    // A part of the key: the newest 20,000 tasks do not have it.
    await page.goto(`${fx.url}/#/tasks`);
    await page.getByRole("searchbox", { name: "Search" }).fill("crate-77");
    await page.keyboard.press("Enter");
    const scope = page.getByTestId("search-scope");
    await scope.waitFor();
    expect(await scope.textContent()).toContain("older tasks are not searched yet");
    await page.getByText("No match among the tasks searched so far.").waitFor();
    expect(await page.getByTestId("older").textContent()).toBe("Search older →");
    await shot(page, "tasks-search-bounded");
    await page.getByTestId("older").click();
    await page.getByRole("link", { name: needle.id, exact: true }).waitFor();
    expect(await page.locator("table.tasks tbody tr").count()).toBe(1);
    // That page read every older task: nothing more to search.
    expect(await scope.count()).toBe(0);
    expect(await page.getByTestId("older").isDisabled()).toBe(true);

    // The start of the key is found through its index on the first page, however old the task.
    await page.getByRole("searchbox", { name: "Search" }).fill("archive-crate");
    await page.keyboard.press("Enter");
    await page.waitForURL(/search=archive-crate(&|$)/);
    await page.getByRole("link", { name: needle.id, exact: true }).waitFor();
    expect(await page.locator("table.tasks tbody tr").count()).toBe(1);
  });

  it("signs out, and stays signed out after a reload", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    await page.reload();
    await page.getByLabel("API token").waitFor();
    expect(pageErrors).toEqual([]);
  });
});
