/**
 * Loads the named queries from `sql/queries/*.sql`. Every statement Tasklane runs lives in those
 * files, under a `-- name: QueryName` header, so SQL can be reviewed in one place and a grep for
 * a query name finds every layer that uses it. `{schema}` in the text is replaced by the
 * instance's schema name, which is validated as a plain identifier before it gets here.
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
  if (raw) return raw;
  const found = new Map<string, string>();
  const dir = `${sqlDir}queries/`;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const parts = readFileSync(dir + file, "utf8").split(/^-- name: (\w+)[^\n]*\n/m);
    for (let i = 1; i < parts.length; i += 2) {
      const name = parts[i]!;
      if (found.has(name)) throw new Error(`query ${name} is defined twice (${file})`);
      found.set(name, parts[i + 1]!.trim());
    }
  }
  raw = found;
  return found;
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
