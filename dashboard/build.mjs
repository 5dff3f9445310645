#!/usr/bin/env node
// Builds the dashboard into dist/dashboard/: index.html and assets/ with content-hashed names
// (served by src/server/dashboard.ts). Bundling takes well under a second, so `npm start` and
// `npm test` run it every time. With --check it type-checks the dashboard's sources first.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const out = join(root, "dist", "dashboard");

if (process.argv.includes("--check")) {
  try {
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(here, "tsconfig.json")], { stdio: "inherit" });
  } catch {
    console.error("dashboard: type errors (above)");
    process.exit(1);
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
const result = await build({
  entryPoints: [join(here, "src/main.tsx")],
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome100", "firefox100", "safari15.4"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith(".js"));
const css = outputs.find((f) => f.endsWith(".css"));
if (!js || !css) throw new Error(`dashboard build: expected a .js and a .css output, got ${outputs.join(", ")}`);
const html = readFileSync(join(here, "index.html"), "utf8").replace("%JS%", js).replace("%CSS%", css);
writeFileSync(join(out, "index.html"), html);
const size = (f) => readFileSync(join(out, "assets", f)).length;
if (process.argv.includes("--verbose")) console.error(`dashboard: ${js} ${(size(js) / 1024).toFixed(1)} KB, ${css} ${(size(css) / 1024).toFixed(1)} KB`);
