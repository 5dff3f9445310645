/**
 * The HTTP API client: JSON over `fetch` with the signed-in token. The dashboard talks to the
 * server only through this module.
 */
import type { Scope } from "./types";

// Relative to the page, so the dashboard also works where an application mounts the app under a prefix.
const base = "api/v1";

/** An answer with an error status, carrying the API's `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The signed-in identity. */
export interface Session {
  token: string;
  /** The token's name, when the server tells it. */
  name: string | null;
  scopes: Scope[];
}

let current: Session | null = null;
const unauthorizedListeners = new Set<() => void>();

export function setSession(session: Session | null): void {
  current = session;
}

export function getSession(): Session | null {
  return current;
}

/** Called when the server refuses the token (revoked while signed in): the app signs out. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Whether the session may do what `scope` allows (`admin` implies every scope). */
export function can(scope: Scope, session: Session | null = current): boolean {
  return !!session && (session.scopes.includes(scope) || session.scopes.includes("admin"));
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** Query parameters; undefined, null and "" are left out. */
  query?: Record<string, string | number | undefined | null>;
  /** Token to use instead of the session's (signing in). */
  token?: string;
  /** Answer text instead of JSON. */
  text?: boolean;
}

/** Path with its query string. */
export function withQuery(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Calls `/api/v1${path}`; non-2xx answers throw {@link ApiError}. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const token = options.token ?? current?.token;
  const headers: Record<string, string> = { accept: options.text ? "text/plain" : "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  // "/stats" → api/v1/stats; the server's own routes ("/metrics", "/openapi.json") sit beside api/.
  const url = path === "/metrics" || path === "/openapi.json" ? path.slice(1) : base + path;
  let res: Response;
  try {
    res = await fetch(withQuery(url, options.query), { method: options.method ?? "GET", headers, body, signal: options.signal, cache: "no-store" });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK", "The server cannot be reached. Retrying…");
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    let details: Record<string, unknown> | undefined;
    try {
      const e = ((await res.json()) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } }).error;
      if (e?.code) code = e.code;
      if (e?.message) message = e.message;
      details = e?.details;
    } catch {
      // not the API's envelope
    }
    if (res.status === 401 && !options.token && current) for (const l of unauthorizedListeners) l();
    throw new ApiError(res.status, code, message, details);
  }
  if (options.text) return (await res.text()) as T;
  return (await res.json()) as T;
}

const shared = new Map<string, { at: number; value: Promise<unknown> }>();

/**
 * A GET shared by the views that need it within `maxAgeMs` (the overview's counts and the charts'
 * sampler both read `/stats`): one request instead of one per view.
 */
export function sharedGet<T>(path: string, maxAgeMs: number, options: Pick<RequestOptions, "text"> = {}): Promise<T> {
  const hit = shared.get(path);
  if (hit && Date.now() - hit.at < maxAgeMs) return hit.value as Promise<T>;
  const value = api<T>(path, options);
  shared.set(path, { at: Date.now(), value });
  value.catch(() => shared.delete(path));
  return value;
}

/** A POST of an operator action. */
export function post<T>(path: string, body: unknown = {}): Promise<T> {
  return api<T>(path, { method: "POST", body });
}

/** A message for any error, for the user. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `Not allowed: ${err.message}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

const storageKey = "tasklane.token";

const identityKey = "tasklane.identity";

/** Keeps the token (and who it is, so that a reload shows the page at once), or forgets both. */
export function storeToken(session: Session | null, remember = false): void {
  try {
    for (const store of [sessionStorage, localStorage]) {
      store.removeItem(storageKey);
      store.removeItem(identityKey);
    }
    if (session) {
      const store = remember ? localStorage : sessionStorage;
      store.setItem(storageKey, session.token);
      store.setItem(identityKey, JSON.stringify({ name: session.name, scopes: session.scopes }));
    }
  } catch {
    // storage disabled: the session lasts as long as the page
  }
}

/** The session kept by a previous sign-in, as it was then (the caller checks it again). */
export function storedSession(): { session: Session; remembered: boolean } | null {
  try {
    for (const store of [sessionStorage, localStorage]) {
      const token = store.getItem(storageKey);
      if (!token) continue;
      const identity = JSON.parse(store.getItem(identityKey) ?? "null") as { name: string | null; scopes: Scope[] } | null;
      if (!identity || !Array.isArray(identity.scopes)) return { session: { token, name: null, scopes: [] }, remembered: store === localStorage };
      return { session: { token, name: identity.name ?? null, scopes: identity.scopes }, remembered: store === localStorage };
    }
  } catch {
    // storage disabled or a malformed entry
  }
  return null;
}

/**
 * Who a token is: `GET /whoami` when the server has it; otherwise found by probing an admin
 * route (the 403 answer names the scopes the token has).
 */
export async function identify(token: string): Promise<Session> {
  try {
    const me = await api<{ name?: string; scopes: Scope[] }>("/whoami", { token });
    return { token, name: me.name ?? null, scopes: me.scopes };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  try {
    await api("/tokens", { token });
    return { token, name: null, scopes: ["admin"] };
  } catch (err) {
    if (err instanceof ApiError && err.status === 403 && Array.isArray(err.details?.granted)) {
      return { token, name: null, scopes: err.details.granted as Scope[] };
    }
    throw err;
  }
}
