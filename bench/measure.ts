/**
 * One measurement: one run of one scenario, in a fresh process (`node --import tsx
 * bench/measure.ts '<MeasureConfig JSON>'`). Prints `RESULT <json>` as its last line; errors
 * are reported in the JSON (`error`), never thrown past it.
 */
import { fileURLToPath } from "node:url";
import { openBenchDb } from "./lib/db.js";
import { scenarioA } from "./scenarios/a-enqueue.js";
import { scenarioB } from "./scenarios/b-drain.js";
import { scenarioC } from "./scenarios/c-latency.js";
import { scenarioD } from "./scenarios/d-processes.js";
import { scenarioE } from "./scenarios/e-raw.js";
import type { MeasureConfig, MeasureResult } from "./scenarios/types.js";

export async function measure(cfg: MeasureConfig): Promise<MeasureResult> {
  const db = await openBenchDb(cfg.backend, cfg.url);
  try {
    switch (cfg.scenario) {
      case "A": return await scenarioA(db, cfg);
      case "B": return await scenarioB(db, cfg);
      case "C": return await scenarioC(db, cfg);
      case "D": return await scenarioD(db, cfg);
      case "E": return await scenarioE(db, cfg);
    }
  } finally {
    await db.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cfg = JSON.parse(process.argv[2] ?? "null") as MeasureConfig;
  let res: MeasureResult;
  try {
    res = await measure(cfg);
  } catch (err) {
    res = { error: String((err as Error)?.stack ?? err) };
  }
  process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
  process.exit(0);
}
