/**
 * `tasklane prune`: deletes finished work past the retention settings now, or with `--dry-run`
 * reports what would go and deletes nothing.
 *
 * @module
 */
import { Tasklane } from "../tasklane.js";
import type { Logger } from "../logger.js";
import { UsageError, type CliEnv, type Output } from "./io.js";
import { databaseSetting, schemaSetting } from "./settings.js";

/** `parseArgs` options of `tasklane prune`. */
export const pruneArgs = {
  database: { type: "string" },
  schema: { type: "string" },
  "completed-days": { type: "string" },
  "failed-days": { type: "string" },
  "max-finished": { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Usage text of `tasklane prune`. */
export const pruneUsage = `Usage: tasklane prune [--dry-run] [--completed-days N] [--failed-days N] [--max-finished N] [--database URL] [--schema S]

Deletes finished tasks and processes older than the retention (completed: 7 days, failed,
cancelled, expired and timed out: 30 days by default), in small batches. --dry-run only counts.
`;

const DAY = 24 * 60 * 60 * 1000;

function count(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} must be a whole number, got "${text}"`);
  return Number(text);
}

/** Runs a prune (or a dry run) and prints what it deleted (or would). */
export async function pruneCommand(values: Record<string, string | boolean | undefined>, env: CliEnv, out: Output, logger?: Logger): Promise<number> {
  const completedDays = count("--completed-days", values["completed-days"] as string | undefined);
  const failedDays = count("--failed-days", values["failed-days"] as string | undefined);
  const maxFinished = count("--max-finished", values["max-finished"] as string | undefined);
  const schema = schemaSetting(values.schema as string | undefined, env);
  const tl = await Tasklane.open({
    database: databaseSetting(values.database as string | undefined, env),
    ...(schema && { schema }),
    ...(logger && { logger }),
    maintenance: false,
    retention: {
      ...(completedDays !== undefined && { completedMs: completedDays * DAY }),
      ...(failedDays !== undefined && { failedMs: failedDays * DAY }),
      ...(maxFinished !== undefined && { maxFinished }),
    },
  });
  try {
    const dry = values["dry-run"] === true;
    const report = await tl.prune({ dryRun: dry });
    out.write(`${dry ? "would delete" : "deleted"}: ${report.tasks} tasks, ${report.processes} processes${dry ? "" : ` (${report.steps} steps)`}, ${report.beyondCount} beyond --max-finished\n`);
    return 0;
  } finally {
    await tl.close();
  }
}
