import { Tasklane } from "../dist/index.js";
const silent = { debug() {}, info() {}, warn: console.warn, error: console.error };
for (const database of ["memory://", "postgres://postgres@127.0.0.1:55432/postgres"]) {
  const tl = await Tasklane.open({ database, schema: "a" + Math.random().toString(36).slice(2, 7), logger: silent as any } as any);
  for (let round = 0; round < 2; round++) {
    let t = performance.now();
    for (let i = 0; i < 1000; i++) await tl.enqueue("t", { i });
    const one = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 1000; i++) await tl.enqueueMany([{ topic: "t", payload: { i } }]);
    const many = performance.now() - t;
    console.log(database.slice(0, 8), "enqueue", (one / 1000).toFixed(3), "ms; enqueueMany([1])", (many / 1000).toFixed(3), "ms");
  }
  await tl.close();
}
