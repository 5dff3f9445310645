/**
 * What commands get from the process, passed in rather than taken from globals so that every
 * command runs the same way in tests.
 *
 * @module
 */
import type { Logger } from "../logger.js";

/** Where a command writes: `process.stdout`, or a collector in tests. */
export interface Output {
  write(text: string): unknown;
}

/** Environment variables as the CLI reads them. */
export type CliEnv = Readonly<Record<string, string | undefined>>;

/** The process as the CLI sees it. */
export interface CliIO {
  stdout: Output;
  stderr: Output;
  /** Environment variables (fallbacks for options not given as flags). */
  env: CliEnv;
  /**
   * A signal aborted when the process is asked to stop (SIGINT, SIGTERM). Only long-running
   * commands call it, so that the others keep Node's default of dying on Ctrl-C.
   */
  shutdownSignal(): AbortSignal;
  /** Logger for the commands' Tasklane instances (default: pino to standard error). */
  logger?: Logger;
}

/** Bad command-line input: the CLI prints it with a pointer to `--help` and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
