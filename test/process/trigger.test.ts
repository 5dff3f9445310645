/**
 * The process trigger (`steps_finished`) when one statement finishes several steps of a process:
 * the interleavings that no worker produces on its own (its completions and failures are separate
 * statements), but a bulk timeout, a bulk retry or an operator's SQL do. The steps are finished
 * with one UPDATE of the task table, as those statements do, and the outcome is read back through
 * the API.
 */
import { expect, it } from "vitest";
import type { Tasklane } from "../../src/index.js";
import { adHoc } from "../../src/db/queries.js";
import { describeBackends } from "../support/backends.js";

/** Moves tasks to the given terminal states in one statement. */
async function finishTasks(tl: Tasklane, ids: string[], states: ("completed" | "failed")[]): Promise<void> {
  await tl.engine.driver.query(
    adHoc(`UPDATE "${tl.schema}".task t
              SET state = u.state, finished_at = now(), attempt = 1
             FROM unnest($1::bigint[], $2::text[]) AS u(id, state)
            WHERE t.id = u.id`),
    [ids, states],
  );
}

/** Moves the named steps of a process to their given terminal states in one statement. */
async function finishInOneStatement(tl: Tasklane, processId: string, states: Record<string, "completed" | "failed">): Promise<void> {
  const process = (await tl.getProcess(processId))!;
  await finishTasks(tl, Object.keys(states).map((name) => process.steps.find((s) => s.name === name)!.taskId), Object.values(states));
}

describeBackends("the process trigger, several steps in one statement", (backend) => {
  it("a child freed by one parent and skipped by the other, in one statement: the process still completes", async () => {
    const tl = await backend.open({ maintenance: false });
    const { process } = await tl.startProcess({
      name: "p",
      steps: [
        { name: "a", topic: "x" },
        { name: "b", topic: "x", onFailure: "skip-dependents" },
        { name: "c", topic: "x", dependsOn: ["a", "b"] },
      ],
    });
    await finishInOneStatement(tl, process.id, { a: "completed", b: "failed" });
    const done = (await tl.getProcess(process.id))!;
    // c was freed by a (one parent of two: still pending) and skipped because of b, in the same
    // trigger: its process has no unfinished step left, so it completed.
    expect(done.steps.find((s) => s.name === "c")!.state).toBe("cancelled");
    expect((await tl.getTask(done.steps.find((s) => s.name === "c")!.taskId))!.error).toMatchObject({ code: "SKIPPED" });
    expect(done.state).toBe("completed");
  });

  it("the last steps of one process and a freed step of another, in one statement", async () => {
    const tl = await backend.open({ maintenance: false });
    const first = await tl.startProcess({ name: "p", steps: [{ name: "a", topic: "x" }, { name: "b", topic: "x", dependsOn: ["a"] }] });
    const second = await tl.startProcess({ name: "q", steps: [{ name: "a", topic: "x" }] });
    const firstSteps = (await tl.getProcess(first.process.id))!.steps;
    const secondSteps = (await tl.getProcess(second.process.id))!.steps;
    // One statement: p's first step (frees its second) and q's only step.
    await finishTasks(tl, [firstSteps.find((s) => s.name === "a")!.taskId, secondSteps[0]!.taskId], ["completed", "completed"]);
    const p = (await tl.getProcess(first.process.id))!;
    expect(p.state).toBe("running");
    expect(p.steps.find((s) => s.name === "b")!.state).toBe("ready");
    expect((await tl.getProcess(second.process.id))!.state).toBe("completed");
    // Then p's second step: p completes.
    await finishInOneStatement(tl, first.process.id, { b: "completed" });
    expect((await tl.getProcess(first.process.id))!.state).toBe("completed");
  });
});
