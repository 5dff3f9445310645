/**
 * The named-query loader: `-- name:` headers, `{schema}`, and `{query:Name}` includes, which let
 * a variant of a statement state the statement once.
 */
import { describe, expect, it } from "vitest";
import { parseQueries, Queries } from "../src/db/queries.js";

describe("named queries", () => {
  it("splits files at their headers and expands includes, recursively and without the final semicolon", () => {
    const found = parseQueries([
      ["a.sql", "-- name: Inner\n-- a comment\nSELECT 1 AS n -- trailing comment\n;\n\n-- name: Middle\nSELECT n FROM ({query:Inner}) AS i;\n"],
      ["b.sql", "-- name: Outer\nWITH m AS ({query:Middle}) SELECT * FROM m;"],
    ]);
    expect(found.get("Inner")).toBe("-- a comment\nSELECT 1 AS n -- trailing comment\n;");
    expect(found.get("Middle")).toBe("SELECT n FROM (\n-- a comment\nSELECT 1 AS n -- trailing comment\n\n) AS i;");
    // The included text's trailing comment does not swallow the closing parenthesis.
    expect(found.get("Outer")).toBe(`WITH m AS (\n${found.get("Middle")!.replace(/;$/, "")}\n) SELECT * FROM m;`);
  });

  it("refuses a name defined twice, an include of an unknown query and an include cycle", () => {
    expect(() => parseQueries([["a.sql", "-- name: A\nSELECT 1;"], ["b.sql", "-- name: A\nSELECT 2;"]])).toThrow("query A is defined twice (b.sql)");
    expect(() => parseQueries([["a.sql", "-- name: A\nSELECT * FROM ({query:Missing}) AS m;"]])).toThrow("query A includes Missing, which is not defined");
    expect(() => parseQueries([["a.sql", "-- name: A\n{query:B}\n-- name: B\n{query:A}"]])).toThrow("query A includes itself (A → B → A)");
  });

  it("renders the shipped queries for a schema, includes expanded", () => {
    const queries = new Queries("shop_jobs");
    const claim = queries.get("TaskClaim").text;
    expect(claim).toContain("UPDATE shop_jobs.task t");
    expect(queries.get("TaskClaimJson").text).toMatch(/^-- /);
    expect(queries.get("TaskClaimJson").text.endsWith(`\nWITH claimed AS (\n${claim.replace(/;$/, "")}\n)\nSELECT to_json(claimed)::text AS j FROM claimed;`)).toBe(true);
    expect(queries.get("TaskClaimJson").name).toBe("tl_shop_jobs_TaskClaimJson");
    expect(() => queries.get("NoSuchQuery")).toThrow("no query named NoSuchQuery");
  });
});
