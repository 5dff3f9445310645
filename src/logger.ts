/**
 * Logging. Tasklane logs through any object with pino's (or bunyan's) method shape; by default a
 * pino logger at `info` (override with the `TASKLANE_LOG_LEVEL` environment variable).
 *
 * @module
 */
import { pino } from "pino";

type LogFn = {
  (msg: string): void;
  (obj: object, msg?: string): void;
};

/** The logging surface Tasklane needs: pino, bunyan and most structured loggers fit it. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** The default logger: pino writing JSON lines to standard error. */
export function defaultLogger(): Logger {
  return pino({ name: "tasklane", level: process.env.TASKLANE_LOG_LEVEL ?? "info" }, pino.destination(2));
}

/** A logger that drops everything (tests and benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
