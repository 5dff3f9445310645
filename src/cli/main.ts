#!/usr/bin/env node
/**
 * The `tasklane` command. Everything testable lives in the modules it calls; this file only
 * binds them to the real process.
 *
 * @module
 */
import { run } from "./run.js";
import { shutdownOnSignals } from "./signals.js";

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  shutdownSignal: () =>
    shutdownOnSignals(process, () => {
      process.stderr.write("second signal: exiting without waiting for shutdown\n");
      process.exit(130);
    }),
});
