/**
 * Graceful shutdown on SIGINT / SIGTERM: the first signal asks the command to stop, a second one
 * (an impatient operator, or a supervisor escalating) ends the process at once.
 *
 * @module
 */

/** The part of `process` this needs, so tests can send signals without sending real ones. */
export interface SignalSource {
  on(event: "SIGINT" | "SIGTERM", listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Listens for SIGINT and SIGTERM and returns a signal aborted (with the signal's name as reason)
 * at the first; `force` runs at the second.
 */
export function shutdownOnSignals(source: SignalSource, force: (signal: NodeJS.Signals) => void): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) force(signal);
    else controller.abort(signal);
  };
  source.on("SIGINT", onSignal);
  source.on("SIGTERM", onSignal);
  return controller.signal;
}
