/**
 * Process definitions: steps with dependencies, the `sequence` / `parallel` shorthand, and the
 * validation that keeps a bad definition from writing anything.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { assertStorableJson, parseOptions, retryPolicySchema, storableString, tagsSchema, timeoutsSchema, topicSchema, type RetryPolicy, type Timeouts } from "../config.js";
import { ValidationError } from "../errors.js";
import { safeJson } from "../task.js";

/** What a step's permanent failure does to the rest of its process. */
export type OnFailure = "fail-process" | "continue" | "skip-dependents";

/** One step of a process: a task of `topic` that runs when the steps it depends on are done. */
export interface StepDefinition {
  /** Unique within the process. */
  name: string;
  topic: string;
  /** Names of the steps that must finish first. */
  dependsOn?: string[];
  /** The step task's payload (its handler also sees the process input as `ctx.input`). */
  payload?: unknown;
  retry?: RetryPolicy;
  timeouts?: Timeouts;
  tags?: string[];
  priority?: number;
  /**
   * - `fail-process` (default): dependents never run, queued steps are cancelled, running ones
   *   aborted, and the process fails.
   * - `continue`: dependents run anyway and see the failure in `ctx.parents`.
   * - `skip-dependents`: only the branch below this step stops.
   */
  onFailure?: OnFailure;
  /** This step's result is (part of) the process output. Default: the results of the final steps. */
  output?: boolean;
}

/** A group built by {@link sequence} or {@link parallel}. */
export interface StepGroup {
  readonly kind: "sequence" | "parallel";
  readonly items: readonly (StepDefinition | StepGroup)[];
}

/**
 * Steps that run one after another: each waits for the whole previous item (NAV-style groups).
 *
 * @example
 * steps: sequence(reserve, parallel(charge, notify, log), ship)
 */
export function sequence(...items: (StepDefinition | StepGroup)[]): StepGroup {
  return { kind: "sequence", items };
}

/** Steps (or groups) that run side by side. */
export function parallel(...items: (StepDefinition | StepGroup)[]): StepGroup {
  return { kind: "parallel", items };
}

const stepSchema = z.strictObject({
  name: storableString().trim().min(1, "a step needs a name").max(200),
  topic: topicSchema,
  dependsOn: z.array(z.string()).optional(),
  payload: z.unknown().optional(),
  retry: retryPolicySchema.optional(),
  timeouts: timeoutsSchema.optional(),
  tags: tagsSchema.optional(),
  priority: z.number().int().min(-2_147_483_647).max(2_147_483_647).optional(),
  onFailure: z.enum(["fail-process", "continue", "skip-dependents"]).optional(),
  output: z.boolean().optional(),
});

/** Options of {@link Tasklane.startProcess}. */
export interface StartProcessOptions {
  /** The caller's id for the process (customId): a second start with it is idempotent. */
  key?: string;
  name: string;
  input?: unknown;
  steps: StepDefinition[] | StepGroup;
  /** The whole process must finish within this many ms (PROCESS_START_TO_END_TIMEOUT). */
  deadlineMs?: number;
}

const startSchema = z.strictObject({
  key: storableString().min(1).max(255).optional(),
  name: storableString().trim().min(1, "a process needs a name").max(200),
  input: z.unknown().optional(),
  steps: z.unknown(),
  deadlineMs: z.number().int().min(1).max(2_147_483_647).optional(),
});

/** A validated step with its dependencies resolved. */
export type NormalStep = z.infer<typeof stepSchema> & { dependsOn: string[] };

/** A validated process definition. */
export interface NormalProcess {
  key: string | undefined;
  name: string;
  inputJson: string;
  steps: NormalStep[];
  /** `JSON.stringify(steps)`, made once per distinct list of steps. */
  stepsJson: string;
  deadlineMs: number | undefined;
  /** Hash of everything that makes two starts "the same process". */
  hash: string;
}

/**
 * Validated steps by the JSON text of the steps as given (see {@link stepsKey}): a batch of
 * processes of one definition validates its steps once, not once per process (zod and the
 * checks below were 30 µs of a 2-step process's start). Bounded: cleared when full.
 */
const stepsCache = new Map<string, { steps: NormalStep[]; stepsJson: string }>();
const STEPS_CACHE_MAX = 256;

/** Thrown by the key's replacer to leave steps that JSON cannot stand for to full validation. */
const NOT_CACHED = new Error("not cacheable");

/**
 * A cache key that tells apart everything validation tells apart: JSON text, with `undefined`
 * kept as a marker (an unknown key set to undefined is refused, a missing one is not), and no key
 * at all (full validation) when the steps hold a function, a symbol or a BigInt.
 */
function stepsKey(steps: unknown): string | undefined {
  try {
    return JSON.stringify(steps, (_k, v: unknown) => {
      if (typeof v === "function" || typeof v === "symbol") throw NOT_CACHED;
      return v === undefined ? "\u0000undefined" : v;
    });
  } catch {
    return undefined;
  }
}

function isGroup(value: unknown): value is StepGroup {
  return typeof value === "object" && value !== null && "kind" in value && "items" in value;
}

/** Flattens groups into steps; every step of an item depends on the tails of the previous item. */
function flatten(item: StepDefinition | StepGroup, after: string[], out: StepDefinition[]): string[] {
  if (!isGroup(item)) {
    out.push({ ...item, dependsOn: [...new Set([...(item.dependsOn ?? []), ...after])] });
    return [item.name];
  }
  if (item.items.length === 0) throw new ValidationError(`an empty ${item.kind}() group has no steps`, { field: "steps" });
  if (item.kind === "parallel") return item.items.flatMap((child) => flatten(child, after, out));
  let tails = after;
  for (const child of item.items) tails = flatten(child, tails, out);
  return tails;
}

/** Validates a definition (its steps as {@link normalizeSteps} does) and hashes it. */
export function normalizeProcess(options: unknown): NormalProcess {
  const parsed = parseOptions(startSchema, options, "process definition");
  const key = stepsKey(parsed.steps);
  let cached = key === undefined ? undefined : stepsCache.get(key);
  if (!cached) {
    const stepsJson = JSON.stringify(normalizeSteps(parsed.steps));
    // Kept as parsed JSON, not the caller's objects: a payload object the caller changes later
    // must not change the steps of the next process of the same definition.
    cached = { steps: JSON.parse(stepsJson) as NormalStep[], stepsJson };
    if (key !== undefined) {
      if (stepsCache.size >= STEPS_CACHE_MAX) stepsCache.clear();
      stepsCache.set(key, cached);
    }
  }
  const { steps, stepsJson } = cached;
  const inputJson = parsed.input === undefined ? "null" : safeJson(parsed.input);
  if (inputJson === undefined) throw new ValidationError("process input is not JSON-serialisable", { field: "input" });
  assertStorableJson(parsed.input, inputJson, "input");
  // The JSON of { name, input, steps, deadlineMs } (as the hash has always been taken), built
  // from the parts' own JSON: JSON.stringify(JSON.parse(inputJson)) is inputJson.
  const hashed = `{"name":${JSON.stringify(parsed.name)},"input":${inputJson},"steps":${stepsJson},"deadlineMs":${parsed.deadlineMs ?? null}}`;
  const hash = createHash("sha256").update(hashed).digest("hex");
  return { key: parsed.key, name: parsed.name, inputJson, steps, stepsJson, deadlineMs: parsed.deadlineMs, hash };
}

/** Validates the steps: names unique, dependencies known, no cycle, at least one step. */
function normalizeSteps(given: unknown): NormalStep[] {
  const raw: StepDefinition[] = [];
  if (isGroup(given)) flatten(given, [], raw);
  else if (Array.isArray(given)) raw.push(...(given as StepDefinition[]));
  else throw new ValidationError("invalid process definition: steps must be an array of steps or a sequence()/parallel() group", { field: "steps" });
  if (raw.length === 0) throw new ValidationError("invalid process definition: a process needs at least one step", { field: "steps" });

  const steps = raw.map((step, i) => {
    const s = parseOptions(stepSchema, step, `step ${i}${typeof step?.name === "string" ? ` ("${step.name}")` : ""}`);
    if (s.payload !== undefined) {
      const json = safeJson(s.payload);
      if (json === undefined) throw new ValidationError(`step "${s.name}": payload is not JSON-serialisable`, { field: `steps.${i}.payload` });
      assertStorableJson(s.payload, json, `steps.${i}.payload`);
    }
    return { ...s, dependsOn: [...new Set(s.dependsOn ?? [])] };
  });
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new ValidationError(`invalid process definition: two steps are named "${s.name}"`, { field: "steps", step: s.name });
    names.add(s.name);
  }
  for (const s of steps) {
    for (const d of s.dependsOn) {
      if (!names.has(d)) throw new ValidationError(`step "${s.name}" depends on "${d}", which is not a step of this process`, { field: "steps", step: s.name });
      if (d === s.name) throw new ValidationError(`step "${s.name}" depends on itself`, { field: "steps", step: s.name });
    }
  }
  assertAcyclic(steps);
  return steps;
}

/** Kahn's algorithm: a step left over has a cycle through it. */
function assertAcyclic(steps: NormalStep[]): void {
  const indegree = new Map(steps.map((s) => [s.name, s.dependsOn.length]));
  const children = new Map<string, string[]>();
  for (const s of steps) for (const d of s.dependsOn) children.set(d, [...(children.get(d) ?? []), s.name]);
  const ready = steps.filter((s) => s.dependsOn.length === 0).map((s) => s.name);
  let seen = 0;
  while (ready.length) {
    const name = ready.pop()!;
    seen++;
    for (const c of children.get(name) ?? []) {
      const left = indegree.get(c)! - 1;
      indegree.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  if (seen < steps.length) {
    const cycle = [...indegree].filter(([, n]) => n > 0).map(([name]) => name);
    throw new ValidationError(`invalid process definition: the dependencies form a cycle through ${cycle.map((c) => `"${c}"`).join(", ")}`, { field: "steps", steps: cycle });
  }
}
