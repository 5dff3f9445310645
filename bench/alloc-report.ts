/**
 * Summarises the files `bench/lib/alloc-probe.mjs` wrote: bytes allocated in all (sampled, so
 * within a few percent), the functions that allocated most (self), and the collections.
 *
 *   node --import tsx bench/alloc-report.ts [--top 25] alloc-1234.json …
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}
interface AllocFile {
  pid: number;
  gc: Record<string, { count: number; ms: number }>;
  profile: { head: ProfileNode };
}

const { values, positionals } = parseArgs({ options: { top: { type: "string", default: "25" } }, allowPositionals: true });

for (const path of positionals) {
  const file = JSON.parse(readFileSync(path, "utf8")) as AllocFile;
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    node.children.forEach(walk);
  };
  walk(file.profile.head);
  const mb = (n: number) => (n / 1e6).toFixed(1);
  console.log(`${path} (pid ${file.pid}): ${mb(total)} MB allocated`);
  for (const [kind, { count, ms }] of Object.entries(file.gc)) console.log(`  gc ${kind}: ${count}, ${ms.toFixed(0)} ms`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`  ${mb(bytes).padStart(8)} MB  ${site}`);
  }
}
