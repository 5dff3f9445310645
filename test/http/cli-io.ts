/** An in-process CLI for the CLI tests. */
import { EventEmitter } from "node:events";
import type { CliIO } from "../../src/cli/io.js";
import { silentLogger } from "../../src/logger.js";

/** An in-process CLI: what it wrote, and a signal the test aborts instead of sending SIGTERM. */
export function fakeIO(env: Record<string, string> = {}) {
  const stop = new AbortController();
  let stdout = "";
  let stderr = "";
  const written = new EventEmitter();
  const io: CliIO = {
    stdout: { write: (text: string) => ((stdout += text), written.emit("stdout", stdout)) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    shutdownSignal: () => stop.signal,
    logger: silentLogger,
  };
  return {
    io,
    stop,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** Resolves with the first match of `pattern` in standard output. */
    waitFor: (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve) => {
        const check = (text: string) => {
          const m = text.match(pattern);
          if (m) {
            written.off("stdout", check);
            resolve(m);
          }
        };
        written.on("stdout", check);
        check(stdout);
      }),
  };
}
