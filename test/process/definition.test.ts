/**
 * Process definitions: the cached validation of steps must answer exactly what full validation
 * answers, and the definition hash must stay what it has always been (processes started before
 * an upgrade are matched by it).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { normalizeProcess } from "../../src/process/definition.js";
import { parallel, sequence } from "../../src/index.js";

/** The hash as every earlier release computed it. */
function hashOfOldReleases(def: ReturnType<typeof normalizeProcess>): string {
  const { name, inputJson, steps, deadlineMs } = def;
  return createHash("sha256").update(JSON.stringify({ name, input: JSON.parse(inputJson), steps, deadlineMs: deadlineMs ?? null })).digest("hex");
}

describe("process definitions", () => {
  it("hashes as earlier releases did", () => {
    const defs = [
      { name: "a", input: { x: 1, nested: [1, "é", null, { "2": 1, b: true }] }, steps: [{ name: "s", topic: "t" }] },
      { name: "b", key: "k", deadlineMs: 60_000, steps: sequence({ name: "x", topic: "t", payload: { p: 1 } }, parallel({ name: "y", topic: "u" }, { name: "z", topic: "u", retry: { maxAttempts: 2 } })) },
      { name: "c", input: "text \u2028 with a separator", steps: [{ name: "s", topic: "t", dependsOn: [] }] },
    ];
    for (const def of defs) {
      const normal = normalizeProcess(def);
      expect(normal.hash).toBe(hashOfOldReleases(normal));
      // Again, from the cache: the same answer.
      expect(normalizeProcess(structuredClone(def)).hash).toBe(normal.hash);
    }
  });

  it("validates steps the cache has seen as strictly as the first time", () => {
    const good = { name: "p", steps: [{ name: "s", topic: "t" }] };
    normalizeProcess(good);
    // An unknown key set to undefined, and a payload that is a function, are refused even though
    // their JSON equals that of a valid definition seen before.
    expect(() => normalizeProcess({ name: "p", steps: [{ name: "s", topic: "t", color: undefined }] })).toThrow(/color|Unrecognized/i);
    expect(() => normalizeProcess({ name: "p", steps: [{ name: "s", topic: "t", payload: () => 1 }] })).toThrow(/JSON/);
  });

  it("does not let a caller's later change to a payload object reach the next process", () => {
    const payload = { n: 1 };
    const first = normalizeProcess({ name: "p", steps: [{ name: "s", topic: "t", payload }] });
    payload.n = 2;
    const second = normalizeProcess({ name: "p", steps: [{ name: "s", topic: "t", payload: { n: 1 } }] });
    expect(second.steps[0]!.payload).toEqual({ n: 1 });
    expect(first.steps[0]!.payload).toEqual({ n: 1 });
  });
});
