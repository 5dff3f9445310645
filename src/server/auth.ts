/**
 * Bearer-token authentication and scope checks for the HTTP API.
 *
 * Every route but the open ones (`/healthz`, `/readyz`, `/openapi.json`) needs
 * `Authorization: Bearer <token>`: without a valid one it answers 401 `UNAUTHORIZED` with
 * `WWW-Authenticate: Bearer`, and without the route's scope 403 `FORBIDDEN` naming the scope.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { hashToken, hasScope, type Scope, type TokenIdentity } from "../auth/tokens.js";
import type { Tasklane } from "../tasklane.js";
import { closeAfterResponse, hasBody } from "./body.js";
import { errorResponse } from "./errors.js";

/** Resolves a bearer secret to the identity it grants, or null when it grants none. */
export type Authenticator = (token: string) => Promise<TokenIdentity | null>;

/** Hono environment of the app: what the auth middleware leaves on the context. */
export interface AppEnv {
  Variables: {
    /** The authenticated token; set by {@link requireScope} and {@link authenticated}. */
    token: TokenIdentity;
    /** How this app checks secrets; set by {@link useAuthenticator}. */
    authenticator: Authenticator;
  };
}

const realm = 'Bearer realm="tasklane"';

/** Longest Authorization header looked at: anything longer is no token of ours. */
const maxHeaderLength = 1024;

/** Makes `authenticate` the app's way of checking secrets (the first middleware of the app). */
export function useAuthenticator(authenticate: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("authenticator", authenticate);
    await next();
  };
}

/**
 * The library's token store behind a short cache: a busy client (a worker polling
 * `fetch_and_lock`) costs one lookup per `ttlMs`, not one per request. Only successes are
 * cached, keyed by the secret's hash. A revoked token is therefore refused within `ttlMs`
 * everywhere, and at once by the app that revoked it ({@link CachedAuthenticator.clear}).
 */
export interface CachedAuthenticator extends Authenticator {
  /** Forgets every cached identity. */
  clear(): void;
}

/** The default {@link Authenticator}: `tl.authenticateToken` with a cache of `ttlMs` (default 5 s). */
export function tokenAuthenticator(tl: Pick<Tasklane, "authenticateToken">, ttlMs = 5_000, maxEntries = 1_000): CachedAuthenticator {
  const cache = new Map<string, { identity: TokenIdentity; until: number }>();
  const authenticate = (async (token: string) => {
    const key = hashToken(token);
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.identity;
    cache.delete(key);
    const identity = await tl.authenticateToken(token);
    if (identity) {
      // A full cache is dropped whole: cheaper than tracking recency, and refilled in one TTL.
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, { identity, until: Date.now() + ttlMs });
    }
    return identity;
  }) as CachedAuthenticator;
  authenticate.clear = () => cache.clear();
  return authenticate;
}

/** The secret of an `Authorization: Bearer …` header, or null. */
function bearerToken(header: string | undefined): string | null {
  if (!header || header.length > maxHeaderLength) return null;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1]! : null;
}

function unauthorized(c: Context, message: string, invalid: boolean): Response {
  c.header("WWW-Authenticate", invalid ? `${realm}, error="invalid_token"` : realm);
  // The body was not read: a client reusing the connection would find the rest of it in the way.
  if (hasBody(c.req.raw)) closeAfterResponse(c);
  return errorResponse(c, 401, "UNAUTHORIZED", message);
}

/** Authenticates the request, or answers 401. */
async function identify(c: Context<AppEnv>): Promise<TokenIdentity | Response> {
  const known = c.get("token");
  if (known) return known;
  const header = c.req.header("authorization");
  if (!header) return unauthorized(c, "this route needs a bearer token: Authorization: Bearer <token>", false);
  const token = bearerToken(header);
  const identity = token ? await c.get("authenticator")(token) : null;
  if (!identity) return unauthorized(c, "the bearer token is not valid (unknown, revoked or malformed)", true);
  c.set("token", identity);
  return identity;
}

/** Answers 401 unless the request carries a valid token (any scope). */
export function authenticated(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const identity = await identify(c);
    if (identity instanceof Response) return identity;
    await next();
  };
}

/**
 * Answers 401 without a valid token and 403 `FORBIDDEN` when the token lacks `scope` (`admin`
 * implies every scope). Mount it on a route or a path prefix:
 *
 * @example
 * app.use("/api/external_task/*", requireScope("work"));
 */
export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const identity = await identify(c);
    if (identity instanceof Response) return identity;
    if (!hasScope(identity, scope)) {
      c.header("WWW-Authenticate", `${realm}, error="insufficient_scope", scope="${scope}"`);
      if (hasBody(c.req.raw)) closeAfterResponse(c);
      return errorResponse(c, 403, "FORBIDDEN", `this route needs a token with scope "${scope}"; this one has ${identity.scopes.join(", ")}`, {
        scope,
        granted: identity.scopes,
      });
    }
    await next();
  };
}

/** The actor of an operator action: the name of the token that made the request. */
export function actorOf(c: Context<AppEnv>): { actor: string } {
  return { actor: c.get("token").name };
}
