/**
 * Serves the dashboard: the single page at `/` and its built files at `/assets/*`. The page is
 * static (built by `npm run build` into `dist/dashboard/`); everything it shows comes from the
 * HTTP API, with the bearer token the user signs in with. Nothing here reads the database.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono, type Context } from "hono";
import { errorResponse } from "./errors.js";

/** Options of {@link dashboardRoutes}. */
export interface DashboardOptions {
  /** Directory of the built dashboard (`index.html` and `assets/`). Default: `dist/dashboard` of the package. */
  dir?: string;
}

const contentTypes: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
};

/**
 * The page may load only its own files and talk only to its own origin: no inline script, no
 * third-party host, no framing.
 */
const securityHeaders: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

/** Where the built dashboard is: next to the compiled server (`dist/server/` → `dist/dashboard/`), or `dist/` from the sources. */
function defaultDir(): string | null {
  for (const rel of ["../dashboard/", "../../dist/dashboard/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, "index.html"))) return dir;
  }
  return null;
}

interface Built {
  index: string;
  assets: Map<string, { body: Uint8Array; type: string }>;
}

/** Reads the built files once: a few small files, kept in memory. */
function load(dir: string | null): Built | null {
  if (!dir || !existsSync(join(dir, "index.html"))) return null;
  const assets = new Map<string, { body: Uint8Array; type: string }>();
  const assetDir = join(dir, "assets");
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const type = contentTypes[extname(name)];
      if (type) assets.set(name, { body: readFileSync(join(assetDir, name)), type });
    }
  }
  return { index: readFileSync(join(dir, "index.html"), "utf8"), assets };
}

const notBuilt = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Tasklane</title>
<body><h1>Tasklane</h1><p>The dashboard is not built. Run <code>npm run build</code>, then restart the server.
The HTTP API under <code>/api/v1</code> works without it.</p></body></html>`;

/**
 * Routes of the dashboard, to mount at the root of the app: `GET /` (the page) and
 * `GET /assets/:file` (its scripts and styles, with names that change with their content, so
 * they are cached for good).
 *
 * @example
 * app.route("/", dashboardRoutes());
 */
export function dashboardRoutes(options: DashboardOptions = {}): Hono {
  let built: Built | null | undefined;
  const files = () => (built === undefined ? (built = load(options.dir ?? defaultDir())) : built);
  const app = new Hono();

  app.get("/", (c) => {
    const b = files();
    for (const [name, value] of Object.entries(securityHeaders)) c.header(name, value);
    // The page names its assets by content hash: it must be fetched anew after an upgrade.
    c.header("Cache-Control", "no-cache");
    return c.html(b ? b.index : notBuilt, b ? 200 : 503);
  });

  app.get("/assets/:file", (c: Context) => {
    const name = c.req.param("file") ?? "";
    const asset = /^[\w.-]+$/.test(name) ? files()?.assets.get(name) : undefined;
    if (!asset) return errorResponse(c, 404, "NOT_FOUND", `no dashboard asset ${JSON.stringify(name)}`);
    c.header("Content-Type", asset.type);
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    c.header("X-Content-Type-Options", "nosniff");
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  });

  return app;
}
