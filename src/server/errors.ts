/**
 * The HTTP API's error envelope, `{ "error": { code, message, details? } }`, and the one place
 * that turns a thrown error into a response, so every route answers errors the same way.
 *
 * @module
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { TasklaneError, type ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";

/** The body of every error response. */
export interface ErrorBody {
  error: {
    /** A library {@link ErrorCode} or one of the HTTP layer's own (`BAD_JSON`, `PAYLOAD_TOO_LARGE`, …). */
    code: string;
    message: string;
    details?: Record<string, unknown>;
  };
}

/**
 * An error a route or middleware throws to answer with a given status and code, for failures
 * that exist only at the HTTP level (malformed JSON, wrong content type, …).
 */
export class HttpError extends Error {
  /** The response status. */
  readonly status: ContentfulStatusCode;
  /** The `error.code` of the response body. */
  readonly code: string;
  /** The `error.details` of the response body. */
  readonly details: Record<string, unknown> | undefined;

  constructor(status: ContentfulStatusCode, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * The status of each library error code a client can cause. Codes not listed (`MIGRATION`,
 * `LEASE_LOST`, …) cannot result from a request's content, so they are server faults: 500.
 */
export const statusOfCode: Readonly<Partial<Record<ErrorCode, ContentfulStatusCode>>> = {
  VALIDATION: 400,
  CONFLICT: 409,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  CLOSED: 503,
  // Over the back-pressure limit: "too many requests, come back after Retry-After" is exactly
  // what a producer should hear (the bounded inbox of the seed).
  BACKPRESSURE: 429,
};

/** Codes for statuses raised by Hono itself or its middleware as an `HTTPException`. */
const codeOfStatus: Readonly<Record<number, string>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
};

/** Answers with the error envelope. */
export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): Response {
  const body: ErrorBody = { error: details === undefined ? { code, message } : { code, message, details } };
  return c.json(body, status);
}

/**
 * The app's `onError`: library errors by their code, HTTP-level errors by their status, and
 * anything else as a logged 500 whose message reveals nothing about the server's internals.
 */
export function errorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof HttpError) return errorResponse(c, err.status, err.code, err.message, err.details);
    if (err instanceof TasklaneError) {
      const status = statusOfCode[err.code];
      const retryAfterMs = err.details?.retryAfterMs;
      // Retry-After is in whole seconds; round up so a client never comes back too early.
      if (typeof retryAfterMs === "number" && (status === 503 || status === 429)) c.header("Retry-After", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
      if (status !== undefined) return errorResponse(c, status, err.code, err.message, err.details);
    } else if (err instanceof HTTPException && err.status < 500) {
      const status = err.status as ContentfulStatusCode;
      return errorResponse(c, status, codeOfStatus[status] ?? "BAD_REQUEST", err.message || "bad request");
    }
    logger.error({ err, method: c.req.method, path: c.req.path }, "HTTP request failed");
    return errorResponse(c, 500, "INTERNAL", "internal server error; the server log has the details");
  };
}

/** The app's `notFound`: unknown routes answer the envelope, not Hono's plain-text 404. */
export const notFoundHandler: NotFoundHandler = (c) =>
  errorResponse(c, 404, "NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`);
