/**
 * The real Camunda 7 external-task client for Node.js (`camunda-external-task-client-js`, from
 * the npm registry), used exactly as its users use it, against Tasklane's `/engine-rest`. The
 * bearer token travels through the client's `interceptors` option.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { Client, logger, Variables, type Task } from "camunda-external-task-client-js";
import { until } from "../support/backends.js";
import { describeServers, startExternalServer, type ExternalServer } from "./support.js";

describeServers("camunda-external-task-client-js against Tasklane", (kind) => {
  let s: ExternalServer;
  beforeAll(async () => {
    s = await startExternalServer(kind);
  }, 60_000);
  afterAll(async () => {
    expect(s.logged).toEqual([]);
    await s.server.close();
  });

  it("subscribes, completes with typed variables, fails and reports BPMN errors", async () => {
    const tl = s.server.tl;
    const orders = await tl.enqueueMany([1, 2, 3].map((n) => ({ topic: "invoice.create", payload: { amount: n * 10, customer: { name: `c${n}` } } })));
    const { process } = await tl.startProcess({
      key: "order-77", name: "order", input: { amount: 5, customer: { name: "proc" } },
      steps: [{ name: "invoice", topic: "invoice.create" }, { name: "notify", topic: "invoice.notify", dependsOn: ["invoice"] }],
    });
    const doomed = await tl.enqueue("payment.charge", { card: "4111" });
    const rejected = await tl.enqueue("credit.check", { score: 3 });

    const client = new Client({
      baseUrl: `${s.url}/engine-rest`,
      workerId: "node-client",
      asyncResponseTimeout: 1_000,
      interval: 20,
      lockDuration: 10_000,
      // How a token reaches Tasklane: the client's request interceptors add the header.
      interceptors: (config) => ({ ...config, headers: { ...(config.headers ?? {}), Authorization: `Bearer ${s.tokens.work}` } }),
      use: logger.level("error"),
    });
    const pollErrors: unknown[] = [];
    const handlerErrors: unknown[] = [];
    client.on("poll:error", (e: unknown) => pollErrors.push(e));
    client.on("handler:error", (e: unknown) => handlerErrors.push(e));
    const seen: Task[] = [];

    client.subscribe("invoice.create", async ({ task, taskService }) => {
      seen.push(task);
      const amount = task.variables.get("amount") as number;
      const customer = task.variables.get("customer") as { name: string };
      await taskService.extendLock(task, 30_000);
      const result = new Variables()
        .set("total", amount * 2)
        .set("customerName", customer.name)
        .set("paid", true)
        .set("ratio", 0.25)
        .set("lines", [{ sku: "a", qty: amount }]);
      await taskService.complete(task, result);
    });
    client.subscribe("invoice.notify", async ({ task, taskService }) => {
      // A later step sees the earlier step's variables.
      await taskService.complete(task, new Variables().set("notified", task.variables.get("customerName")));
    });
    client.subscribe("payment.charge", async ({ task, taskService }) => {
      await taskService.handleFailure(task, { errorMessage: "card declined", errorDetails: "Error: declined\n    at charge()", retries: 0, retryTimeout: 0 });
    });
    client.subscribe("credit.check", async ({ task, taskService }) => {
      await taskService.handleBpmnError(task, "LOW_SCORE", `score ${task.variables.get("score")}`);
    });

    try {
      await until("every task to finish", async () => {
        const states = await Promise.all([...orders.map((o) => o.id), doomed.id, rejected.id].map(async (id) => (await tl.getTask(id))!.state));
        const proc = await tl.getProcess(process.id);
        return states.every((st) => st === "completed" || st === "failed") && proc!.state === "completed";
      }, 20_000);
    } finally {
      client.stop();
    }

    for (const [i, order] of orders.entries()) {
      const n = i + 1;
      expect(await tl.getTask(order.id)).toMatchObject({
        state: "completed",
        result: { total: n * 20, customerName: `c${n}`, paid: true, ratio: 0.25, lines: [{ sku: "a", qty: n * 10 }] },
      });
    }
    const steps = (await tl.getProcess(process.id))!.steps;
    expect(steps.find((st) => st.name === "invoice")).toMatchObject({ result: { total: 10, customerName: "proc" } });
    expect(steps.find((st) => st.name === "notify")).toMatchObject({ result: { notified: "proc" } });
    expect(seen.find((t) => t.processInstanceId === process.id)).toMatchObject({ businessKey: "order-77", activityId: "invoice" });

    expect(await tl.getTask(doomed.id)).toMatchObject({ state: "failed", error: { message: "card declined", details: "Error: declined\n    at charge()" } });
    const incidents = await (await s.call("GET", "/engine-rest/external-task?noRetriesLeft=true&topicName=payment.charge")).json();
    expect(incidents).toMatchObject([{ id: doomed.id, retries: 0, errorMessage: "card declined" }]);
    expect(await tl.getTask(rejected.id)).toMatchObject({ state: "failed", error: { code: "BUSINESS", businessCode: "LOW_SCORE", message: "score 3" } });

    expect(pollErrors).toEqual([]);
    expect(handlerErrors).toEqual([]);
    // The last long poll ends on its own (asyncResponseTimeout) before the server closes.
    await until("the client's last poll to end", async () => tl.external.waiting === 0, 5_000);
  });
});
