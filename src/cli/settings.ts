/**
 * Settings of the CLI: a flag wins over its environment variable, which wins over the default.
 * Each is checked at start, and an error names the flag or variable the bad value came from.
 *
 * @module
 */
import { defaultDatabase } from "../db/open.js";
import { UsageError, type CliEnv } from "./io.js";

/** A setting's value and where it came from (`--port`, `PORT`), for error messages. */
export interface Setting {
  value: string;
  source: string;
}

/**
 * The flag's value, else the environment variable's, else undefined. An empty variable counts
 * as unset, as shells and container runtimes often define variables empty.
 */
export function setting(flag: string, value: string | undefined, env: CliEnv, variable: string): Setting | undefined {
  if (value !== undefined) return { value, source: `--${flag}` };
  const fromEnv = env[variable];
  return fromEnv ? { value: fromEnv, source: variable } : undefined;
}

/** A TCP port from its text: digits only, 0–65535. */
export function parsePort(s: Setting): number {
  const port = /^\d{1,5}$/.test(s.value) ? Number(s.value) : NaN;
  if (Number.isNaN(port) || port > 65535) throw new UsageError(`${s.source} must be an integer from 0 to 65535, got ${JSON.stringify(s.value)}`);
  return port;
}

/** A setting that must not be empty (`--host ""` is a mistake, not a request for a default). */
export function nonEmpty(s: Setting | undefined): string | undefined {
  if (s && s.value.trim() === "") throw new UsageError(`${s.source} must not be empty`);
  return s?.value;
}

/** The database URL: `--database`, `DATABASE_URL`, or the embedded default. */
export function databaseSetting(value: string | undefined, env: CliEnv): string {
  return nonEmpty(setting("database", value, env, "DATABASE_URL")) ?? defaultDatabase;
}

/** The schema: `--schema`, `TASKLANE_SCHEMA`, or undefined for the library's default. */
export function schemaSetting(value: string | undefined, env: CliEnv): string | undefined {
  return nonEmpty(setting("schema", value, env, "TASKLANE_SCHEMA"));
}
