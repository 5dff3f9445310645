/**
 * OpenTelemetry: spans for enqueue, claim and each attempt, through `@opentelemetry/api` only.
 * Without an SDK registered by the application every call here is a no-op, so an unobserved
 * instance pays next to nothing. The enqueuer's trace context is stored with the task and the
 * attempt's span continues it on whichever node runs it.
 *
 * @internal
 * @module
 */
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";

const tracer = trace.getTracer("tasklane");

/** The active trace context as a W3C carrier (`{ traceparent, tracestate? }`), JSON, or null. */
export function traceCarrier(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? JSON.stringify(carrier) : null;
}

/** Runs `fn` inside a producer/internal span; the span records a thrown error. */
export async function withSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>, kind = SpanKind.PRODUCER): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Starts the span of one attempt as a child of the enqueuer's context (stored with the task). */
export function startAttemptSpan(topic: string, carrier: unknown, attributes: Attributes): { span: Span; run<T>(fn: () => T): T } {
  const parent = carrier && typeof carrier === "object" ? propagation.extract(ROOT_CONTEXT, carrier as Record<string, string>) : ROOT_CONTEXT;
  const span = tracer.startSpan(`tasklane.attempt ${topic}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  // No SDK registered (a span that records nothing and names no trace, under no parent): the
  // handler's own spans would see nothing in the context either, so none is made. A context
  // and its Map are ~370 bytes that live as long as the handler runs (measured in a draining
  // worker's allocation profile). A sampled-out span of an SDK has a valid span context, so it
  // still becomes the handler's parent, and its children are sampled out with it.
  if (parent === ROOT_CONTEXT && !span.isRecording() && !isSpanContextValid(span.spanContext())) return { span, run: direct };
  const active = trace.setSpan(parent, span);
  return { span, run: (fn) => context.with(active, fn) };
}

const direct = <T>(fn: () => T): T => fn();

/** Ends an attempt's span with its outcome. */
export function endAttemptSpan(span: Span, outcome: string, err?: unknown): void {
  span.setAttribute("tasklane.outcome", outcome);
  if (err !== undefined) {
    if (err instanceof Error) span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}
