/**
 * Loads the named queries from `sql/queries/*.sql`. Every statement Tasklane runs lives in those
 * files, under a `-- name: QueryName` header, so SQL can be reviewed in one place and a grep for
 * a query name finds every layer that uses it. `{schema}` in the text is replaced by the
 * instance's schema name, which is validated as a plain identifier before it gets here.
 * `{query:Name}` is replaced by the text of the query `Name` (without its final semicolon), so a
 * variant of a statement, such as a different shape of its answer, states the statement once.
 *
 * @internal
 * @module
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A rendered statement. `name` doubles as the prepared-statement name on node-postgres. */
export interface Query {
  readonly name: string;
  readonly text: string;
}

/** Folder with the SQL shipped in the package (`sql/`), found relative to this file in src/ and dist/. */
export const sqlDir = fileURLToPath(new URL("../../sql/", import.meta.url));

let raw: Map<string, string> | undefined;

/** Parses every `.sql` file under `sql/queries` into name → text (read once per process). */
function rawQueries(): Map<string, string> {
  const dir = `${sqlDir}queries/`;
  raw ??= parseQueries(readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((file) => [file, readFileSync(dir + file, "utf8")]));
  return raw;
}

/**
 * Splits query files (`[file name, text]`) into name → text at their `-- name:` headers and
 * expands `{query:Name}` includes. Throws on a name defined twice, an include of an unknown
 * query and an include cycle.
 *
 * @internal
 */
export function parseQueries(files: ReadonlyArray<readonly [string, string]>): Map<string, string> {
  const found = new Map<string, string>();
  for (const [file, text] of files) {
    const parts = text.split(/^-- name: (\w+)[^\n]*\n/m);
    for (let i = 1; i < parts.length; i += 2) {
      const name = parts[i]!;
      if (found.has(name)) throw new Error(`query ${name} is defined twice (${file})`);
      found.set(name, parts[i + 1]!.trim());
    }
  }
  for (const name of found.keys()) found.set(name, expand(found, name, []));
  return found;
}

/** The text of `name` with its `{query:Other}` includes replaced, recursively; `via` catches cycles. */
function expand(found: Map<string, string>, name: string, via: string[]): string {
  if (via.includes(name)) throw new Error(`query ${name} includes itself (${[...via, name].join(" → ")})`);
  const text = found.get(name);
  if (text === undefined) throw new Error(`query ${via.at(-1)} includes ${name}, which is not defined`);
  // The included text keeps its comments, so it goes on lines of its own: a closing parenthesis
  // after a trailing comment would otherwise be commented out.
  return text.replace(/\{query:(\w+)\}/g, (_, included: string) => `\n${expand(found, included, [...via, name]).replace(/;\s*$/, "")}\n`);
}

/** Replaces the `{schema}` placeholder. */
export function renderSchema(text: string, schema: string): string {
  return text.replaceAll("{schema}", schema);
}

/** All named queries rendered for one schema, looked up by name. */
export class Queries {
  readonly #byName = new Map<string, Query>();

  constructor(readonly schema: string) {
    for (const [name, text] of rawQueries()) {
      // The schema is part of the prepared-statement name: two instances with different schemas
      // may share a pooled connection's statement cache in the caller's pg client.
      this.#byName.set(name, { name: `tl_${schema}_${name}`, text: renderSchema(text, schema) });
    }
  }

  /** The query with that name; throws on a typo so a missing query fails at start-up tests. */
  get(name: string): Query {
    const query = this.#byName.get(name);
    if (!query) throw new Error(`no query named ${name} in sql/queries`);
    return query;
  }
}

/** A statement that is not in the named-query files (the migrator's bookkeeping only). */
export function adHoc(text: string): Query {
  return { name: "", text };
}
