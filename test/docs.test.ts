/**
 * Keeps the reference documents in step with the code: every error code has a section in
 * docs/errors.md, and every named query that updates or locks rows (any file in sql/queries)
 * appears in docs/state-machine.md.
 */
import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const read = (path: string) => readFileSync(root + path, "utf8");

/** The members of the `ErrorCode` union in src/errors.ts. */
function errorCodes(): string[] {
  const union = /export type ErrorCode\s*=([^;]+);/.exec(read("src/errors.ts"));
  if (!union) throw new Error("src/errors.ts: no `export type ErrorCode = …;` found");
  return [...union[1]!.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]!);
}

/** Named queries of a SQL file (split as src/db/queries.ts does), comments removed. */
function namedQueries(path: string): Map<string, string> {
  const parts = read(path).split(/^-- name: (\w+)[^\n]*\n/m);
  const queries = new Map<string, string>();
  for (let i = 1; i < parts.length; i += 2) {
    queries.set(parts[i]!, parts[i + 1]!.replace(/--[^\n]*/g, ""));
  }
  return queries;
}

describe("docs/errors.md", () => {
  const doc = read("docs/errors.md");
  const codes = errorCodes();

  it("finds the error codes", () => {
    expect(codes.length).toBeGreaterThan(0);
  });

  it.each(codes)("has a ### %s section", (code) => {
    expect(doc).toMatch(new RegExp(`^### ${code}\\s*$`, "m"));
  });
});

/** Every SQL file of named queries, as src/db/queries.ts loads them. */
const queryFiles = readdirSync(root + "sql/queries").filter((f) => f.endsWith(".sql")).sort();

describe("docs/state-machine.md", () => {
  const doc = read("docs/state-machine.md");
  // Statements with UPDATE: the ones that change rows, and the ones that lock them (FOR UPDATE).
  const updating = queryFiles.flatMap((file) =>
    [...namedQueries(`sql/queries/${file}`)]
      .filter(([, text]) => /\bUPDATE\b/.test(text))
      .map(([name]): [string, string] => [name, file]),
  );

  it("reads every query file", () => {
    expect(queryFiles).toEqual(expect.arrayContaining(["task.sql", "process.sql", "external.sql", "schedule.sql", "retention.sql"]));
    for (const file of queryFiles) expect(namedQueries(`sql/queries/${file}`).size, file).toBeGreaterThan(0);
  });

  it("finds the updating queries", () => {
    expect(updating.length).toBeGreaterThan(0);
  });

  it.each(updating)("documents %s (%s)", (name) => {
    expect(doc).toMatch(new RegExp(`\\b${name}\\b`));
  });
});
