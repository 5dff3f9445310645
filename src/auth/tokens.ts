/**
 * API tokens of the HTTP server: random bearer secrets with scopes, stored as SHA-256 hashes.
 *
 * A token is `tl_` followed by 32 random bytes in base64url (43 characters). Only its hash is
 * stored, so the secret is shown once, when it is created, and a copy of the database grants no
 * access.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { parseOptions, storableString } from "../config.js";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Engine } from "../tasklane.js";

/**
 * What a token may do:
 * - `work`: remote workers (the 5Minds and Camunda external-task APIs; 5Minds' `can_access_external_tasks`).
 * - `start`: enqueue tasks, start processes, send events.
 * - `read`: every `GET` of the API, and `/metrics`.
 * - `admin`: operator actions (retry, cancel, complete, suspend, resume), schedules, tokens; implies every other scope.
 */
export type Scope = "work" | "start" | "read" | "admin";

/** Every scope. */
export const scopes: readonly Scope[] = ["work", "start", "read", "admin"];

/** Who a request authenticated as: enough to authorise it and to record it as the actor. */
export interface TokenIdentity {
  id: string;
  name: string;
  scopes: Scope[];
}

/** A token as {@link Tasklane.listTokens} shows it: everything but the secret. */
export interface TokenInfo extends TokenIdentity {
  createdBy: string | null;
  createdAt: Date;
  /** When it last authenticated a request (kept to the minute). */
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

/** Options of {@link Tasklane.createToken}. */
export interface CreateTokenOptions {
  /** Unique among live tokens; recorded as the actor of what the token does. */
  name: string;
  /** At least one of `work`, `start`, `read`, `admin`. */
  scopes: Scope[];
}

/** The one answer that carries the secret. */
export interface CreatedToken {
  id: string;
  /** The bearer secret: show it to its owner now, it cannot be read back. */
  token: string;
}

/** A token's name: plain text, as it appears in audit trails and logs. */
export const tokenNameSchema = storableString().trim().min(1, "a token needs a name").max(100);

/** {@link CreateTokenOptions} as a schema (the HTTP API validates its bodies with it too). */
export const createTokenSchema = z.strictObject({
  name: tokenNameSchema,
  scopes: z
    .array(z.enum(scopes as [Scope, ...Scope[]], { error: `a scope is one of ${scopes.join(", ")}` }))
    .min(1, "a token needs at least one scope")
    .max(scopes.length)
    .transform((list) => [...new Set(list)]),
});

/** The shape of every secret this module issues; anything else is refused without a lookup. */
export const tokenPattern = /^tl_[A-Za-z0-9_-]{43}$/;

/** True when `identity` may act with `scope`: it holds the scope, or `admin`. */
export function hasScope(identity: Pick<TokenIdentity, "scopes">, scope: Scope): boolean {
  return identity.scopes.includes(scope) || identity.scopes.includes("admin");
}

/** Hex SHA-256 of a secret, as stored. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function newSecret(): string {
  return `tl_${randomBytes(32).toString("base64url")}`;
}

type Row = Record<string, unknown>;

function infoFromRow(r: Row): TokenInfo {
  return {
    id: String(r.id),
    name: r.name as string,
    scopes: r.scopes as Scope[],
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as Date,
    lastUsedAt: (r.last_used_at as Date | null) ?? null,
    revokedAt: (r.revoked_at as Date | null) ?? null,
    revokedBy: (r.revoked_by as string | null) ?? null,
  };
}

/** @internal The token store behind the Tasklane token methods. */
export class Tokens {
  constructor(private readonly engine: Pick<Engine, "driver" | "queries">) {}

  /** Creates a token; a live token with the same name is a {@link ConflictError}. */
  async create(options: CreateTokenOptions, actor: string | null): Promise<CreatedToken> {
    const { name, scopes: granted } = parseOptions(createTokenSchema, options, "token options");
    const token = newSecret();
    const { driver, queries } = this.engine;
    const [row] = await driver.query<Row>(queries.get("TokenInsert"), [name, granted, hashToken(token), actor]);
    if (!row) throw new ConflictError(`a token named "${name}" exists; revoke it or choose another name`, { name });
    return { id: String(row.id), token };
  }

  /**
   * Creates a token only when no token was ever created on this database (the embedded server's
   * first start); null otherwise.
   */
  async createFirst(options: CreateTokenOptions, actor: string | null): Promise<CreatedToken | null> {
    const { name, scopes: granted } = parseOptions(createTokenSchema, options, "token options");
    const token = newSecret();
    const { driver, queries } = this.engine;
    const [row] = await driver.query<Row>(queries.get("TokenInsertFirst"), [name, granted, hashToken(token), actor]);
    return row ? { id: String(row.id), token } : null;
  }

  /** Whether a live token exists. */
  async anyLive(): Promise<boolean> {
    const [row] = await this.engine.driver.query<{ live: boolean }>(this.engine.queries.get("TokenAny"));
    return Boolean(row?.live);
  }

  /** Every token, revoked ones included, oldest first. */
  async list(): Promise<TokenInfo[]> {
    const rows = await this.engine.driver.query<Row>(this.engine.queries.get("TokenList"));
    return rows.map(infoFromRow);
  }

  /**
   * Revokes a token at once. Revoking a revoked token changes nothing and answers it as it is.
   *
   * @throws {@link NotFoundError} when there is no token with that id.
   */
  async revoke(id: string, actor: string | null): Promise<TokenInfo> {
    const tokenId = typeof id === "string" && /^[1-9]\d{0,18}$/.test(id) && BigInt(id) < 2n ** 63n ? id : null;
    if (tokenId === null) throw new NotFoundError(`no token with id ${String(id)}`, { id });
    const { driver, queries } = this.engine;
    const [revoked] = await driver.query<Row>(queries.get("TokenRevoke"), [tokenId, actor]);
    if (revoked) return infoFromRow(revoked);
    const [current] = await driver.query<Row>(queries.get("TokenGet"), [tokenId]);
    if (!current) throw new NotFoundError(`no token with id ${tokenId}`, { id: tokenId });
    return infoFromRow(current);
  }

  /**
   * The live token a secret belongs to, or null.
   *
   * The lookup is by the SHA-256 of the presented secret, so it needs no constant-time
   * comparison: how long the index search takes can only reveal something about the hash of the
   * attacker's own guess, and turning that into a stored token would need a SHA-256 preimage.
   * The secrets themselves have 256 random bits, beyond guessing.
   */
  async authenticate(token: string): Promise<TokenIdentity | null> {
    if (typeof token !== "string" || !tokenPattern.test(token)) return null;
    const { driver, queries } = this.engine;
    const [row] = await driver.query<Row>(queries.get("TokenAuthenticate"), [hashToken(token)]);
    return row ? { id: String(row.id), name: row.name as string, scopes: row.scopes as Scope[] } : null;
  }
}
