/**
 * Request bodies: the API speaks JSON only, in UTF-8, up to a size limit.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ValidationError } from "../errors.js";
import { HttpError, errorResponse } from "./errors.js";

/** The default largest request body: 1 MiB. */
export const defaultBodyLimitBytes = 1024 * 1024;

/**
 * Rejects a request body that is not JSON with 415. Requests without a body pass, so that
 * body-less actions need no content type.
 */
export function requireJsonBody(): MiddlewareHandler {
  return async (c, next) => {
    if (hasBody(c.req.raw)) {
      const problem = contentTypeProblem(c.req.header("content-type"));
      if (problem) {
        closeAfterResponse(c);
        return errorResponse(c, 415, "UNSUPPORTED_MEDIA_TYPE", problem);
      }
    }
    await next();
  };
}

/** Rejects a body over `maxBytes` with 413, counting what is sent when no length is declared. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      closeAfterResponse(c);
      return errorResponse(c, 413, "PAYLOAD_TOO_LARGE", `request body is larger than ${maxBytes} bytes`, { limit: maxBytes });
    },
  });
}

/**
 * Marks the connection for closing after an answer sent before the body was read: the server
 * drops the rest of the body, and a client reusing the connection would see it cut off.
 */
export function closeAfterResponse(c: Context): void {
  c.header("Connection", "close");
}

/**
 * Reads the body as a JSON object.
 *
 * @throws {@link HttpError} `BAD_JSON` when it is empty or not JSON; {@link ValidationError} when
 * it is JSON but not an object.
 */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") throw new HttpError(400, "BAD_JSON", "request body is empty; send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, "BAD_JSON", `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError("request body must be a JSON object", { field: "body" });
  }
  return value as Record<string, unknown>;
}

/** Whether a request has a body: HTTP/1.1 frames one only with a length or chunked encoding. */
export function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  return req.headers.has("transfer-encoding") || (length !== null && length.trim() !== "0");
}

/** Why a Content-Type is not acceptable, or null when it is JSON in UTF-8. */
function contentTypeProblem(header: string | undefined): string | null {
  if (!header) return "request body needs Content-Type: application/json";
  const [type = "", ...params] = header.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json" && !/^application\/[\w.+-]+\+json$/.test(type)) {
    return `Content-Type must be application/json, got "${header}"`;
  }
  // RFC 8259: JSON exchanged between systems is UTF-8; anything else would be decoded wrongly.
  const charset = params.find((p) => p.startsWith("charset="))?.slice("charset=".length).replace(/"/g, "");
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    return `request body must be UTF-8, got charset ${charset}`;
  }
  return null;
}
