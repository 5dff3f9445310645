/**
 * Request body schemas. They reuse the library's option schemas, so the HTTP API and
 * `tl.enqueue` accept the same values, and add what only JSON input needs: dates arrive as ISO
 * strings, and text must be something PostgreSQL can store (checked here so that such input is
 * a 400 rather than a database error).
 *
 * @module
 */
import { z } from "zod";
import { enqueueOptionsSchema, tagsSchema, topicSchema } from "../config.js";

/** Deepest nesting of arrays and objects accepted in a payload. */
export const maxPayloadDepth = 100;

/** Why PostgreSQL would refuse a string, or null when it can store it. */
function textProblem(text: string): string | null {
  if (text.includes("\u0000")) return "must not contain the NUL character (\\u0000)";
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) {
    return "must be valid Unicode (it has an unpaired surrogate)";
  }
  return null;
}

/** A string schema that also rejects text PostgreSQL cannot store. */
export function storable(schema: z.ZodString): z.ZodString {
  return schema.superRefine((text, ctx) => {
    const problem = textProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

interface Node {
  value: unknown;
  key: string | number | null;
  parent: Node | null;
  depth: number;
}

function pathOf(node: Node): (string | number)[] {
  const path: (string | number)[] = [];
  for (let n: Node | null = node; n && n.key !== null; n = n.parent) path.unshift(n.key);
  return path;
}

/**
 * The first part of a JSON value PostgreSQL's `jsonb` would reject or JavaScript would alter, or
 * that nests deeper than `maxDepth`. Iterative, because the input is untrusted and
 * recursion could overflow the stack.
 */
export function jsonProblem(value: unknown, maxDepth = maxPayloadDepth): { path: (string | number)[]; message: string } | null {
  const stack: Node[] = [{ value, key: null, parent: null, depth: 0 }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const v = node.value;
    if (typeof v === "string") {
      const problem = textProblem(v);
      if (problem) return { path: pathOf(node), message: problem };
      continue;
    }
    // JSON.parse reads 1e400 as Infinity, which would be stored as null: refuse, don't alter.
    if (typeof v === "number" && !Number.isFinite(v)) {
      return { path: pathOf(node), message: "must be a number within the range of a double (about ±1.8e308)" };
    }
    if (typeof v !== "object" || v === null) continue;
    const depth = node.depth + 1;
    if (depth > maxDepth) return { path: pathOf(node), message: `nests deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, key: i, parent: node, depth }));
      continue;
    }
    for (const [key, item] of Object.entries(v)) {
      const child: Node = { value: item, key, parent: node, depth };
      const problem = textProblem(key);
      if (problem) return { path: pathOf(child), message: `property name ${problem}` };
      stack.push(child);
    }
  }
  return null;
}

/**
 * Any JSON value PostgreSQL can store as it is: no NUL or unpaired surrogate in a string or a
 * key, no number beyond a double, no deeper nesting than {@link maxPayloadDepth}.
 */
export const jsonValueSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    const problem = jsonProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem.message, path: problem.path });
  });

const payloadSchema = jsonValueSchema.optional();

const runAtSchema = z.iso
  .datetime({ offset: true, error: "runAt must be an ISO 8601 date-time with a time zone, e.g. 2030-01-01T09:00:00Z" })
  .transform((text) => new Date(text))
  // PostgreSQL has no year 0, so earlier dates fail in the database; a past runAt means "now"
  // anyway, and the earliest date it can store costs the client nothing.
  .refine((date) => !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1, "runAt must be a real date in year 1 or later");

// Replaced below: `tx` has no meaning over HTTP, and runAt, key and tags need the JSON rules.
const { tx: _tx, runAt: _runAt, key, tags: _tags, ...enqueueFields } = enqueueOptionsSchema.shape;

/**
 * Body of `POST /api/v1/tasks`: the arguments of `tl.enqueue(topic, payload, options)` in one
 * object. Unknown fields are rejected, so a misspelt option is an error, not silently ignored.
 */
export const enqueueBodySchema = z.strictObject({
  topic: storable(topicSchema),
  payload: payloadSchema,
  ...enqueueFields,
  runAt: runAtSchema.optional(),
  key: storable(key.unwrap()).optional(),
  tags: tagsSchema
    .superRefine((tags, ctx) => {
      tags.forEach((tag, i) => {
        const problem = textProblem(tag);
        if (problem) ctx.addIssue({ code: "custom", message: problem, path: [i] });
      });
    })
    .optional(),
});

/** Body of the actions that take no input (retry, cancel, …): none, or `{}`; unknown fields are refused. */
export const noInputBody = z.strictObject({});

/** A parsed {@link enqueueBodySchema}. */
export type EnqueueBody = z.output<typeof enqueueBodySchema>;
