/**
 * The task list's search: index matches (the id, the start of a key) found anywhere and listed
 * first, then text matches from a scan of at most `scanLimit` tasks per call, whose cursor
 * continues below what it read. Every match is listed once, whichever way the pages fall.
 */
import { expect, it } from "vitest";
import { ValidationError, type Tasklane, type TaskPage } from "../../src/index.js";
import { prefixUpperBound } from "../../src/task-search.js";
import { describeBackends } from "../support/backends.js";

/** Every page of a search; the pages and the keys of their tasks. */
async function allPages(tl: Tasklane, options: Parameters<Tasklane["listTasks"]>[0]): Promise<{ pages: TaskPage[]; keys: (string | null)[] }> {
  const pages: TaskPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await tl.listTasks({ ...options, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 1000);
  return { pages, keys: pages.flatMap((p) => p.tasks.map((t) => t.key)) };
}

it("bounds a key prefix in code point order", () => {
  expect(prefixUpperBound("order-1")).toBe("order-2");
  expect(prefixUpperBound("a\u{10FFFF}")).toBe("b");
  expect(prefixUpperBound("\u{D7FF}")).toBe("\u{E000}");
  expect(prefixUpperBound("x\u{1F600}")).toBe("x\u{1F601}");
  expect(prefixUpperBound("\u{10FFFF}")).toBeNull();
});

describeBackends("task search", (backend) => {
  it("lists the id and key-prefix matches first, however old, then text matches of a bounded scan", async () => {
    const tl = await backend.open();
    // 1: the oldest task, keyed "invoice-7"; then 40 tasks whose error-free rows mention nothing;
    // then three whose topic contains "invoice".
    const [old] = await tl.enqueueMany([{ topic: "billing.misc", key: "invoice-7" }]);
    await tl.enqueueMany(Array.from({ length: 40 }, (_, i) => ({ topic: "filler", key: `filler-${i}` })));
    const recent = await tl.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ topic: "invoice.render", key: `r-${i}` })));

    // The key prefix is found through the index though the scan reads only the 10 newest tasks.
    const first = await tl.listTasks({ search: "invoice", scanLimit: 10 });
    expect(first.tasks.map((t) => t.key)).toEqual(["invoice-7", "r-2", "r-1", "r-0"]);
    expect(first.search).toEqual({ indexed: 1, scannedTo: String(Number(recent[0]!.id) - 7), bounded: true });
    expect(first.nextCursor).not.toBeNull();

    // Following the cursor reads the rest and lists nothing twice.
    const all = await allPages(tl, { search: "invoice", scanLimit: 10 });
    expect(all.keys).toEqual(["invoice-7", "r-2", "r-1", "r-0"]);
    expect(all.pages).toHaveLength(5);
    expect(all.pages.at(-1)!.search).toMatchObject({ bounded: false });
    expect(all.pages.at(-1)!.nextCursor).toBeNull();

    // The id: found anywhere, first; a text that contains it matches in the scan.
    const byId = await tl.listTasks({ search: old!.id, scanLimit: 5 });
    expect(byId.tasks[0]!.id).toBe(old!.id);
    expect(byId.search?.indexed).toBe(1);

    // The key prefix is exact case; the scan is any case.
    expect((await tl.listTasks({ search: "INVOICE-7", scanLimit: 10 })).tasks).toEqual([]);
    expect((await tl.listTasks({ search: "INVOICE-7" })).tasks.map((t) => t.key)).toEqual(["invoice-7"]);
    expect((await tl.listTasks({ search: "INVOICE", scanLimit: 10 })).tasks.map((t) => t.key)).toEqual(["r-2", "r-1", "r-0"]);
  });

  it("pages through index matches, then the scan, with any page size", async () => {
    const tl = await backend.open();
    await tl.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ topic: i % 2 ? "odd" : "even", payload: i, key: `key-${i}`, tags: i % 5 ? [] : ["five"] })));
    await tl.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ topic: "other", key: `my-key-${i}` })));
    const expected = ["my-key-1", "key-19", "key-18", "key-17", "key-16", "key-15", "key-14", "key-13", "key-12", "key-11", "key-10", "key-1"];
    // Prefix matches first, newest first; then "my-key-1", which contains the text.
    const keyPrefix = [...expected.slice(1), expected[0]];
    for (const limit of [1, 2, 3, 5, 11, 12, 50]) {
      for (const scanLimit of [1, 4, 20_000]) {
        expect((await allPages(tl, { search: "key-1", limit, scanLimit })).keys, `limit ${limit}, scanLimit ${scanLimit}`).toEqual(keyPrefix);
      }
    }
    // Filters narrow both parts.
    expect((await allPages(tl, { search: "key-1", topic: "odd", scanLimit: 7 })).keys).toEqual(["key-19", "key-17", "key-15", "key-13", "key-11", "key-1"]);
    expect((await allPages(tl, { search: "key-1", tag: "five", limit: 1 })).keys).toEqual(["key-15", "key-10"]);
    expect((await tl.listTasks({ search: "%" })).tasks).toHaveLength(0);
    expect((await tl.listTasks({ search: "ey_1" })).tasks).toHaveLength(0);
    await expect(tl.listTasks({ search: "x", scanLimit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(tl.listTasks({ search: "x", cursor: Buffer.from("x12").toString("base64url") })).rejects.toBeInstanceOf(ValidationError);
  });

  it("leaves a key prefix shared by more than a thousand tasks to the scan", async () => {
    const tl = await backend.open();
    await tl.enqueueMany(Array.from({ length: 1_050 }, (_, i) => ({ topic: "bulk", key: `bulk-${i}` })));
    const page = await tl.listTasks({ search: "bulk-", limit: 10, scanLimit: 100 });
    // Too many to list from the index: they come from the scan, newest first.
    expect(page.search?.indexed).toBe(0);
    expect(page.tasks.map((t) => t.key)).toEqual(Array.from({ length: 10 }, (_, i) => `bulk-${1_049 - i}`));
    const all = await allPages(tl, { search: "bulk-", limit: 400, scanLimit: 300 });
    expect(all.keys).toHaveLength(1_050);
    expect(new Set(all.keys).size).toBe(1_050);
    // A narrower prefix of the same keys is listed from the index.
    expect((await tl.listTasks({ search: "bulk-104", scanLimit: 1 })).tasks.map((t) => t.key)).toEqual([
      "bulk-1049", "bulk-1048", "bulk-1047", "bulk-1046", "bulk-1045", "bulk-1044", "bulk-1043", "bulk-1042", "bulk-1041", "bulk-1040", "bulk-104",
    ]);
  });
});
