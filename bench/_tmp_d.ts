import { Tasklane } from "../dist/index.js";
import { normalizeProcess } from "../dist/process/definition.js";
const silent = { debug() {}, info() {}, warn: console.warn, error: console.error };
const url = process.argv[2] ?? "postgres://postgres@127.0.0.1:55432/postgres";
const tl = await Tasklane.open({ database: url, schema: "d" + Math.random().toString(36).slice(2, 7), logger: silent as any } as any);
const def = (i: number) => ({ key: `wf-${i}`, name: "seed", input: { i }, steps: [{ name: "s1", topic: "d.s1" }, { name: "s2", topic: "d.s2", dependsOn: ["s1"] }] });
let n = 0;
for (let round = 0; round < 4; round++) {
  const defs = Array.from({ length: 1000 }, () => def(n++));
  let t = performance.now();
  for (const d of defs) normalizeProcess(d);
  const js = performance.now() - t;
  const defs2 = Array.from({ length: 1000 }, () => def(n++));
  t = performance.now();
  await tl.startProcessMany(defs2);
  console.log("normalize x1000", js.toFixed(1), "ms; startProcessMany(1000)", (performance.now() - t).toFixed(1), "ms");
}
await tl.close();
