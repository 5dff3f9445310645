/**
 * The task list's search: index matches first (the task whose id is the text, the tasks whose
 * key starts with it, found anywhere), then text matches from a bounded scan (topic, key or error
 * message containing the text, any case, among at most `scanLimit` tasks per call, newest first).
 * The cursor says which part a page continues; it stays opaque to callers. See sql/queries/task-search.sql.
 *
 * @internal
 * @module
 */
import type { Driver } from "./db/driver.js";
import type { Queries } from "./db/queries.js";
import { taskFromRow, type Task } from "./task.js";

/** Tasks one search call reads for text matches, by default. */
export const defaultScanLimit = 20_000;

/** Key-prefix matches listed through the index; a prefix shared by more keys is left to the scan. */
export const keyPrefixLimit = 1_000;

/** The largest bigint: "below" it is the whole table. */
const top = "9223372036854775807";

/** How far a search has got, returned with each page (`TaskPage.search`). */
export interface TaskSearchProgress {
  /** Tasks on this page found through an index: the task whose id is the text, tasks whose key starts with it. */
  indexed: number;
  /**
   * The text scan of this page read every task below the cursor down to this id (inclusive);
   * null when it did not run (the page was full of index matches).
   */
  scannedTo: string | null;
  /**
   * True when the scan stopped at its bound (`scanLimit` tasks read) with older tasks unread:
   * `nextCursor` continues the search below `scannedTo`, though the page is not full.
   */
  bounded: boolean;
}

/**
 * Where a search page continues. `hits`: the index matches, below `below`. `scan`: the text scan,
 * below `below`, leaving out the id match (`skipId`) and the listed key-prefix matches
 * (`skipPrefix`), which an earlier page showed.
 */
export type SearchCursor = { part: "hits"; below: string } | { part: "scan"; below: string; skipId: boolean; skipPrefix: boolean };

/**
 * Decodes a cursor of `listTasks`: a plain id (any list), or `h<id>`, `s<id>`, `b<id>` (a search's
 * index part; its scan with the key-prefix matches left out; its scan with them in). A plain id
 * continues a search as a scan that leaves nothing out. Null when it is not one this API made.
 */
export function decodeCursor(cursor: string): { id: string; search: SearchCursor } | null {
  const text = Buffer.from(cursor, "base64url").toString();
  const m = /^([hsb]?)([1-9]\d{0,18})$/.exec(text);
  if (!m || BigInt(m[2]!) >= 2n ** 63n) return null;
  const [, kind, id] = m as unknown as [string, string, string];
  const search: SearchCursor =
    kind === "h" ? { part: "hits", below: id } : { part: "scan", below: id, skipId: kind !== "", skipPrefix: kind === "s" };
  return { id, search };
}

function encode(c: SearchCursor): string {
  const kind = c.part === "hits" ? "h" : c.skipPrefix ? "s" : c.skipId ? "b" : "";
  return Buffer.from(`${kind}${c.below}`).toString("base64url");
}

/**
 * The strings that start with `prefix` are those from `prefix` (inclusive) to the returned one
 * (exclusive), in code point order, which is the byte order of UTF-8 (COLLATE "C"). Null when
 * there is no such bound (a prefix of U+10FFFF only).
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = [...prefix].map((c) => c.codePointAt(0)!);
  while (points.length) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      // Skip the surrogates, which are not characters.
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

/** The filters of a search besides its text, as the queries take them. */
export interface SearchFilters {
  state: string | null;
  topic: string | null;
  tag: string | null;
  createdAfter: string | null;
  createdBefore: string | null;
}

/** One page of a search. */
export async function searchTasks(
  driver: Driver,
  queries: Queries,
  options: { text: string; filters: SearchFilters; limit: number; cursor: SearchCursor | null; scanLimit: number; idMatch: string | null },
): Promise<{ tasks: Task[]; nextCursor: string | null; search: TaskSearchProgress }> {
  const { text, limit, scanLimit, idMatch } = options;
  const f = options.filters;
  const filters = [f.state, f.topic, f.tag, f.createdAfter, f.createdBefore];
  const upper = prefixUpperBound(text);
  const rows: Record<string, unknown>[] = [];
  let cursor = options.cursor ?? { part: "hits", below: top };
  let indexed = 0;

  if (cursor.part === "hits") {
    const below = cursor.below;
    // Key-prefix matches, when few enough to list: a page in the middle of them (an `h` cursor)
    // lists them whatever their number now, as its first page did.
    let prefixIds: string[] = [];
    let listed = false;
    if (upper !== null) {
      const found = await driver.query<{ id: string | number }>(queries.get("TaskSearchKeyPrefix"), [text, upper, below, keyPrefixLimit + 1]);
      listed = found.length <= keyPrefixLimit || options.cursor !== null;
      if (listed) prefixIds = found.map((r) => String(r.id));
    }
    const ids = idMatch ? [...prefixIds, idMatch] : prefixIds;
    if (ids.length) {
      const hits = await driver.query<Record<string, unknown>>(queries.get("TaskSearchHits"), [ids, ...filters, below, limit + 1]);
      if (hits.length > limit) {
        const page = hits.slice(0, limit).map(taskFromRow);
        return { tasks: page, nextCursor: encode({ part: "hits", below: page[page.length - 1]!.id }), search: { indexed: limit, scannedTo: null, bounded: false } };
      }
      rows.push(...hits);
      indexed = hits.length;
    }
    cursor = { part: "scan", below: top, skipId: true, skipPrefix: listed };
    if (rows.length === limit) {
      return { tasks: rows.map(taskFromRow), nextCursor: encode(cursor), search: { indexed, scannedTo: null, bounded: false } };
    }
  }

  // The text scan: the `scanLimit` newest tasks below the cursor, at most.
  const room = limit - rows.length;
  const [window] = await driver.query<{ floor: string | number | null; n: number }>(queries.get("TaskSearchWindow"), [cursor.below, scanLimit]);
  const n = Number(window?.n ?? 0);
  let nextCursor: string | null = null;
  let scannedTo: string | null = null;
  let bounded = false;
  if (n > 0) {
    const floor = String(window!.floor);
    const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const skipPrefix = cursor.skipPrefix && upper !== null;
    const found = await driver.query<Record<string, unknown>>(queries.get("TaskSearchScan"), [
      ...filters, cursor.below, floor, pattern, cursor.skipId && idMatch ? idMatch : "0", skipPrefix ? text : null, skipPrefix ? upper : null, room + 1,
    ]);
    if (found.length > room) {
      rows.push(...found.slice(0, room));
      scannedTo = String(rows[rows.length - 1]!.id);
      nextCursor = encode({ ...cursor, below: scannedTo });
    } else {
      rows.push(...found);
      scannedTo = floor;
      // A full window: older tasks remain unread, and the next page reads the next window.
      if (n >= scanLimit) {
        bounded = true;
        nextCursor = encode({ ...cursor, below: floor });
      }
    }
  }
  return { tasks: rows.map(taskFromRow), nextCursor, search: { indexed, scannedTo, bounded } };
}
