/**
 * `tasklane token create | list | revoke`: API tokens of the HTTP server, managed from the
 * command line (the only way on a PostgreSQL server before the first token exists).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { scopes, type Scope } from "../auth/tokens.js";
import { defaultLogger, type Logger } from "../logger.js";
import { Tasklane } from "../tasklane.js";
import { UsageError, type CliEnv, type Output } from "./io.js";
import { databaseSetting, schemaSetting } from "./settings.js";

/** Usage text of `tasklane token`. */
export const tokenUsage = `Usage: tasklane token create --scope S [--scope S …] [--name NAME] [--database URL] [--schema S]
       tasklane token list [--database URL] [--schema S]
       tasklane token revoke ID [--database URL] [--schema S]

Manages the bearer tokens of the HTTP API. "create" prints the new token on the last line of its
output: it is shown only then (only its hash is stored).

Scopes:
  work   remote workers: the 5Minds and Camunda external-task APIs
  start  enqueue tasks, start processes, send events
  read   every GET of the API, and /metrics
  admin  operator actions, schedules and tokens; implies every other scope

Options:
  --scope S       a scope to grant (repeat for several)
  --name NAME     who the token is for, recorded as the actor of what it does
                  (default: token-<random>); unique among live tokens
  --database URL  postgres://…, pglite://path or memory://
                  (env DATABASE_URL; default pglite://./.tasklane/db). An embedded database
                  belongs to one process: stop "tasklane serve" on it first.
  --schema S      PostgreSQL schema of Tasklane's tables (env TASKLANE_SCHEMA; default tasklane)
`;

const tokenArgs = {
  scope: { type: "string", multiple: true },
  name: { type: "string" },
  database: { type: "string" },
  schema: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Resolved input of `tasklane token`. */
export interface TokenCommand {
  action: "create" | "list" | "revoke" | "help";
  database: string;
  schema: string | undefined;
  scopes: Scope[];
  name: string | undefined;
  id: string | undefined;
}

/** Parses the arguments after `tasklane token`, checking each setting. */
export function tokenSettings(args: string[], env: CliEnv): TokenCommand {
  const { values, positionals } = parseArgs({ args, options: tokenArgs, strict: true, allowPositionals: true });
  const [action, ...rest] = positionals;
  const base = { database: databaseSetting(values.database, env), schema: schemaSetting(values.schema, env), scopes: [] as Scope[], name: values.name, id: undefined };
  if (values.help || action === undefined) return { ...base, action: "help" };
  if (action !== "create" && action !== "list" && action !== "revoke") throw new UsageError(`unknown token command ${JSON.stringify(action)}: use create, list or revoke`);
  if (action === "revoke") {
    if (rest.length !== 1) throw new UsageError("token revoke takes one token id (see tasklane token list)");
    return { ...base, action, id: rest[0] };
  }
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (action === "list") return { ...base, action };
  const granted = values.scope ?? [];
  if (granted.length === 0) throw new UsageError(`token create needs at least one --scope (${scopes.join(", ")})`);
  for (const s of granted) {
    if (!(scopes as readonly string[]).includes(s)) throw new UsageError(`--scope must be one of ${scopes.join(", ")}, got ${JSON.stringify(s)}`);
  }
  if (values.name !== undefined && values.name.trim() === "") throw new UsageError("--name must not be empty");
  return { ...base, action, scopes: granted as Scope[] };
}

/**
 * Runs `tasklane token …`.
 *
 * @returns the exit code (0).
 */
export async function tokenCommand(command: TokenCommand, out: Output, logger: Logger = defaultLogger()): Promise<number> {
  if (command.action === "help") {
    out.write(tokenUsage);
    return 0;
  }
  const tl = await Tasklane.open({ database: command.database, schema: command.schema, logger });
  try {
    if (command.action === "create") {
      const name = command.name ?? `token-${randomBytes(3).toString("hex")}`;
      const { id, token } = await tl.createToken({ name, scopes: command.scopes }, { actor: "tasklane token create" });
      out.write(`Created token ${id} "${name}" with scope${command.scopes.length > 1 ? "s" : ""} ${command.scopes.join(", ")}.\n`);
      out.write("It is shown only now (only its hash is stored). Send it as: Authorization: Bearer <token>\n");
      out.write(`${token}\n`);
    } else if (command.action === "list") {
      const tokens = await tl.listTokens();
      if (tokens.length === 0) out.write("No tokens.\n");
      for (const t of tokens) {
        const status = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : `last used ${t.lastUsedAt?.toISOString() ?? "never"}`;
        out.write(`${t.id}\t${t.name}\t${t.scopes.join(",")}\tcreated ${t.createdAt.toISOString()}\t${status}\n`);
      }
    } else {
      const t = await tl.revokeToken(command.id!, { actor: "tasklane token revoke" });
      out.write(`Revoked token ${t.id} "${t.name}".\n`);
    }
  } finally {
    await tl.close();
  }
  return 0;
}
