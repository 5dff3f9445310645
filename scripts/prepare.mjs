#!/usr/bin/env node
// Runs before `npm start` and `npm test`, so that the README's two commands work on a fresh
// clone: installs the packages when node_modules is missing, then compiles (and, for the tests,
// type-checks the test code too), and builds the dashboard.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });

if (!existsSync("node_modules/.package-lock.json")) {
  console.error("tasklane: installing packages (first run)…");
  run(npm, [existsSync("package-lock.json") ? "ci" : "install", "--no-audit", "--no-fund"]);
}
const tsc = "node_modules/typescript/bin/tsc";
if (process.argv[2] === "test") run(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit"]);
run(process.execPath, [tsc, "-p", "tsconfig.build.json"]);
// The dashboard (dist/dashboard/): one esbuild bundle, well under a second; type-checked for the tests.
run(process.execPath, ["dashboard/build.mjs", ...(process.argv[2] === "test" ? ["--check"] : [])]);
