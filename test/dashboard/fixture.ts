/**
 * A real server with a small, lively data set for the dashboard's browser tests (and a preview
 * to look at: `npx tsx test/dashboard/preview.ts`): tasks in every state, a process that blocks
 * in one step, a waiting task, a schedule, a worker, and one admin and one read-only token.
 */
import { silentLogger } from "../../src/logger.js";
import { serve, type RunningServer } from "../../src/server/serve.js";
import type { Worker } from "../../src/runtime/worker.js";

export interface DashboardFixture {
  server: RunningServer;
  url: string;
  adminToken: string;
  readToken: string;
  worker: Worker;
  /** The id of the task that failed once (searchable by its key `invoice-4711`). */
  failedTaskId: string;
  /** The key of the process whose `charge` step runs until cancelled. */
  processKey: string;
  scheduleName: string;
  close(): Promise<void>;
}

/** Resolves when `check` returns a truthy value, polling. */
export async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = "condition"): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startFixture(options: { database?: string; schema?: string; port?: number } = {}): Promise<DashboardFixture> {
  const server = await serve({ database: options.database ?? "memory://", schema: options.schema, port: options.port ?? 0, logger: silentLogger, bootstrapToken: false });
  const tl = server.tl;
  const adminToken = (await tl.createToken({ name: "ops-admin", scopes: ["admin"] })).token;
  const readToken = (await tl.createToken({ name: "viewer", scopes: ["read"] })).token;

  // Fails its first attempt when the payload asks for it, then succeeds: what a retry fixes.
  const crashed = new Set<string>();
  tl.define(
    "invoice.render",
    async (task) => {
      const p = task.payload as { invoice: number; crashOnce?: boolean };
      if (p.crashOnce && !crashed.has(task.id)) {
        crashed.add(task.id);
        const err = new Error("PDF renderer crashed: font 'Helvetica-Bold' is missing");
        err.name = "RenderError";
        // A stack as an application would show it (not this test's own files).
        err.stack = [
          `RenderError: ${err.message}`,
          "    at loadFont (/srv/billing/src/pdf/fonts.ts:41:11)",
          "    at renderInvoice (/srv/billing/src/pdf/render.ts:88:23)",
          "    at async invoiceRender (/srv/billing/src/handlers/invoice.ts:17:18)",
        ].join("\n");
        throw err;
      }
      return { pdf: `invoices/${p.invoice}.pdf`, pages: 2 };
    },
    { retry: { maxAttempts: 1 } },
  );
  tl.define("email.send", async (task) => ({ sent: true, to: (task.payload as { to?: string } | null)?.to ?? null }));
  tl.define("report.build", async () => ({ rows: 1200 }));
  tl.define("stock.reserve", async () => ({ reserved: 3 }));
  // Runs until its signal aborts (a cancel): the step a test sees stop.
  tl.define("payment.charge", (_task, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true })));
  tl.define("shipping.book", async () => ({ carrier: "posten" }));
  tl.define("payment.await", async (task, ctx) => (ctx.event ? { confirmed: ctx.event.data } : ctx.waitForEvent("payment.confirmed", { timeoutMs: 3_600_000 })));

  const worker = tl.worker({ concurrency: 20, tags: ["eu"] });
  await worker.start();

  for (let i = 0; i < 12; i++) await tl.enqueue("email.send", { to: `user${i}@example.com` }, { tags: ["eu"] });
  for (let i = 0; i < 6; i++) await tl.enqueue("invoice.render", { invoice: 4700 + i });
  const failed = await tl.enqueue("invoice.render", { invoice: 4711, crashOnce: true, customer: { id: 42, name: "Nordlys AS" } }, { key: "invoice-4711" });
  await tl.enqueue("payment.await", { order: 77 }, { key: "order-77-payment" });
  // Delayed, and another one held by an operator.
  await tl.enqueue("report.build", { month: "2026-10" }, { runAt: new Date(Date.now() + 6 * 3_600_000) });
  const held = await tl.enqueue("report.build", { month: "2026-09" }, { runAt: new Date(Date.now() + 3_600_000) });
  await tl.suspend(held.id, { actor: "ops-admin" });

  const processKey = "order-4711";
  await tl.startProcess({
    key: processKey,
    name: "order.fulfil",
    input: { orderId: 4711 },
    steps: [
      { name: "reserve", topic: "stock.reserve" },
      { name: "charge", topic: "payment.charge", dependsOn: ["reserve"] },
      { name: "notify", topic: "email.send", dependsOn: ["reserve"], payload: { to: "buyer@example.com" } },
      { name: "ship", topic: "shipping.book", dependsOn: ["charge", "notify"] },
      { name: "receipt", topic: "email.send", dependsOn: ["ship"] },
    ],
  });
  await tl.startProcess({
    key: "order-4700",
    name: "order.fulfil",
    input: { orderId: 4700 },
    steps: [
      { name: "reserve", topic: "stock.reserve" },
      { name: "notify", topic: "email.send", dependsOn: ["reserve"] },
    ],
  });

  const scheduleName = "nightly-report";
  await tl.createSchedule(scheduleName, { cron: "0 3 * * *", timezone: "Europe/Oslo", topic: "report.build", payload: { kind: "daily" } });
  await tl.createSchedule("hourly-sync", { cron: "15 * * * *", topic: "email.send", payload: { to: "sync@example.com" } });

  await until(async () => (await tl.getTask(failed.id))?.state === "failed", 15_000, "the invoice task to fail");
  await until(async () => (await tl.getProcess(processKey))?.steps.find((s) => s.name === "charge")?.state === "running", 15_000, "the charge step to run");

  return {
    server,
    url: server.url,
    adminToken,
    readToken,
    worker,
    failedTaskId: failed.id,
    processKey,
    scheduleName,
    close: () => server.close(),
  };
}
