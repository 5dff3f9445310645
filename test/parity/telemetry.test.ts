import { afterAll, beforeAll, expect, it } from "vitest";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { deferred, describeBackends } from "../support/backends.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describeBackends("OpenTelemetry", (backend) => {
  it("the attempt's span continues the enqueuer's trace, and the handler runs inside it", async () => {
    exporter.reset();
    const tl = await backend.open();
    const inHandler = deferred<string | undefined>();
    tl.define("traced", async () => inHandler.resolve(trace.getActiveSpan()?.spanContext().traceId));
    const tracer = trace.getTracer("test");
    const traceId = await tracer.startActiveSpan("request", async (span) => {
      await tl.enqueue("traced", { n: 1 });
      span.end();
      return span.spanContext().traceId;
    });
    await tl.worker({ pollIntervalMs: 50 }).start();
    expect(await inHandler.promise).toBe(traceId);
    const spans = exporter.getFinishedSpans();
    const enqueue = spans.find((s) => s.name === "tasklane.enqueue traced")!;
    const attempt = await (async () => {
      for (let i = 0; i < 100; i++) {
        const found = exporter.getFinishedSpans().find((s) => s.name === "tasklane.attempt traced");
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error("no attempt span");
    })();
    expect(enqueue.spanContext().traceId).toBe(traceId);
    expect(attempt.spanContext().traceId).toBe(traceId);
    expect(attempt.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
    expect(attempt.attributes).toMatchObject({ "tasklane.topic": "traced", "tasklane.attempt": 1, "tasklane.outcome": "returned" });
    expect(spans.some((s) => s.name === "tasklane.claim")).toBe(true);
  });
});

describeBackends("OpenTelemetry over HTTP", (backend) => {
  it("a task enqueued over HTTP with a traceparent continues the caller's trace", async () => {
    exporter.reset();
    const { createApp } = await import("../../src/server/app.js");
    const { silentLogger } = await import("../../src/logger.js");
    const tl = await backend.open();
    const inHandler = deferred<string | undefined>();
    tl.define("traced.http", async () => inHandler.resolve(trace.getActiveSpan()?.spanContext().traceId));
    const authenticate = async (token: string) => (token === "t" ? { id: "1", name: "test", scopes: ["admin" as const] } : null);
    const app = createApp(tl, { logger: silentLogger, authenticate });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await app.request("/api/v1/tasks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer t", traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ topic: "traced.http" }),
    });
    expect(res.status).toBe(201);
    await tl.worker({ pollIntervalMs: 50 }).start();
    expect(await inHandler.promise).toBe(traceId);
  });
});
