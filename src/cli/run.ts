/**
 * Command dispatch: parses the command line, runs the command, and turns failures into a message
 * on standard error and an exit code (2 for bad input, 1 for everything else).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { TasklaneError } from "../errors.js";
import { UsageError, type CliIO } from "./io.js";
import { migrateArgs, migrateCommand, migrateSettings, migrateUsage } from "./migrate.js";
import { serveArgs, serveCommand, serveSettings, serveUsage } from "./serve.js";
import { tokenCommand, tokenSettings } from "./token.js";
import { workerArgs, workerCommand, workerSettings, workerUsage } from "./worker.js";
import { pruneArgs, pruneCommand, pruneUsage } from "./prune.js";

/** Usage text of `tasklane` itself. */
export const usage = `Usage: tasklane <command> [options]

Commands:
  serve     run the HTTP API
  migrate   apply database migrations, or print them as SQL (--print)
  token     create, list or revoke API tokens of the HTTP server
  worker    run the task handlers a module exports
  prune     delete finished work past its retention (--dry-run: only report)

Run "tasklane <command> --help" for a command's options.
`;

interface Command {
  run(args: string[], io: CliIO): Promise<number>;
}

const commands: Record<string, Command> = {
  serve: {
    run: (args, io) => {
      const { values } = parseArgs({ args, options: serveArgs, strict: true, allowPositionals: false });
      if (values.help) return help(io, serveUsage);
      return serveCommand(serveSettings(values, io.env), io.stdout, io.shutdownSignal(), io.logger);
    },
  },
  migrate: {
    run: (args, io) => {
      const { values } = parseArgs({ args, options: migrateArgs, strict: true, allowPositionals: false });
      if (values.help) return help(io, migrateUsage);
      return migrateCommand(migrateSettings(values, io.env), io.stdout, io.logger);
    },
  },
  worker: {
    run: (args, io) => {
      const { values } = parseArgs({ args, options: workerArgs, strict: true, allowPositionals: false });
      if (values.help) return help(io, workerUsage);
      return workerCommand(workerSettings(values, io.env), io.stdout, io.shutdownSignal(), io.logger, Boolean((io.stdout as { isTTY?: boolean }).isTTY));
    },
  },
  prune: {
    run: (args, io) => {
      const { values } = parseArgs({ args, options: pruneArgs, strict: true, allowPositionals: false });
      if (values.help) return help(io, pruneUsage);
      return pruneCommand(values, io.env, io.stdout, io.logger);
    },
  },
  token: {
    run: (args, io) => tokenCommand(tokenSettings(args, io.env), io.stdout, io.logger),
  },
};

/**
 * Runs the command line `argv` (without the node and script arguments).
 *
 * @returns the process's exit code.
 */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(usage);
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") return help(io, usage);
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.stderr.write(`error: unknown command ${JSON.stringify(name)}\n\n${usage}`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    return report(err, io, name);
  }
}

async function help(io: CliIO, text: string): Promise<number> {
  io.stdout.write(text);
  return 0;
}

/** Prints a failure and chooses the exit code. */
function report(err: unknown, io: CliIO, command: string): number {
  if (err instanceof UsageError || isParseArgsError(err)) {
    io.stderr.write(`error: ${(err as Error).message}\nRun "tasklane ${command} --help" for usage.\n`);
    return 2;
  }
  if (err instanceof TasklaneError) {
    io.stderr.write(`error [${err.code}]: ${err.message}\n`);
    return err.code === "VALIDATION" ? 2 : 1;
  }
  io.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/** `parseArgs` reports unknown flags and missing values as TypeErrors with ERR_PARSE_ARGS_* codes. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
