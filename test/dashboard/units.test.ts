/** The dashboard's pure parts: the step-graph layout and the reading of /metrics. */
import { describe, expect, it } from "vitest";
import { defaultSizes, depths, layoutGraph } from "../../dashboard/src/graph-layout.js";
import { parseMetrics, quantile } from "../../dashboard/src/metrics-text.js";

describe("step graph layout", () => {
  it("puts each step one column right of its deepest parent (DAG)", () => {
    const steps = [
      { name: "reserve", dependsOn: [] },
      { name: "charge", dependsOn: ["reserve"] },
      { name: "notify", dependsOn: ["reserve"] },
      { name: "ship", dependsOn: ["charge", "notify"] },
      { name: "audit", dependsOn: ["reserve", "ship"] },
    ];
    expect(Object.fromEntries(depths(steps))).toEqual({ reserve: 0, charge: 1, notify: 1, ship: 2, audit: 3 });
    const layout = layoutGraph(steps);
    expect(layout.columns).toBe(4);
    const at = Object.fromEntries(layout.nodes.map((n) => [n.name, n]));
    expect(at.charge!.x).toBe(at.notify!.x);
    expect(at.charge!.y).not.toBe(at.notify!.y);
    expect(at.ship!.x).toBeGreaterThan(at.charge!.x);
    expect(layout.edges).toHaveLength(6);
    // Every node lies inside the drawing.
    for (const n of layout.nodes) {
      expect(n.x + defaultSizes.nodeWidth).toBeLessThanOrEqual(layout.width);
      expect(n.y + defaultSizes.nodeHeight).toBeLessThanOrEqual(layout.height);
      expect(n.y).toBeGreaterThanOrEqual(0);
    }
  });

  it("draws a sequence as one row and parallel steps as one column", () => {
    const seq = layoutGraph([
      { name: "a", dependsOn: [] },
      { name: "b", dependsOn: ["a"] },
      { name: "c", dependsOn: ["b"] },
    ]);
    expect(seq.columns).toBe(3);
    expect(new Set(seq.nodes.map((n) => n.y)).size).toBe(1);
    const par = layoutGraph([
      { name: "a", dependsOn: [] },
      { name: "b", dependsOn: [] },
      { name: "c", dependsOn: [] },
    ]);
    expect(par.columns).toBe(1);
    expect(new Set(par.nodes.map((n) => n.y)).size).toBe(3);
  });

  it("orders a column by its parents' rows, so edges do not cross needlessly", () => {
    // x2 depends on b, x1 on a: declared in the crossing order, laid out in the straight one.
    const layout = layoutGraph([
      { name: "a", dependsOn: [] },
      { name: "b", dependsOn: [] },
      { name: "x2", dependsOn: ["b"] },
      { name: "x1", dependsOn: ["a"] },
    ]);
    const row = Object.fromEntries(layout.nodes.map((n) => [n.name, n.row]));
    expect(row.x1).toBe(row.a);
    expect(row.x2).toBe(row.b);
  });

  it("survives unknown parents and cycles without looping", () => {
    const layout = layoutGraph([
      { name: "a", dependsOn: ["ghost", "b"] },
      { name: "b", dependsOn: ["a"] },
    ]);
    expect(layout.nodes).toHaveLength(2);
  });
});

describe("/metrics for the charts", () => {
  const text = (completed: number, bucketCounts: number[]) =>
    [
      "# HELP tasklane_task_completions_total Attempts that completed, by topic.",
      "# TYPE tasklane_task_completions_total counter",
      `tasklane_task_completions_total{topic="a"} ${completed}`,
      `tasklane_task_completions_total{topic="b"} 1`,
      `tasklane_task_failures_total{topic="a",retrying="true"} 2`,
      ...["0.01", "0.1", "1", "+Inf"].map((le, i) => `tasklane_attempt_duration_seconds_bucket{topic="a",outcome="completed",le="${le}"} ${bucketCounts[i]}`),
      `tasklane_attempt_duration_seconds_sum{topic="a",outcome="completed"} 3.2`,
    ].join("\n");

  it("sums counters over labels", () => {
    const m = parseMetrics(text(10, [1, 2, 3, 4]));
    expect(m.completions).toBe(11);
    expect(m.failures).toBe(2);
    expect(m.buckets.get(Infinity)).toBe(4);
  });

  it("interpolates quantiles of the observations between two readings", () => {
    const before = parseMetrics(text(0, [0, 0, 0, 0])).buckets;
    // 10 new observations: all between 0.01 s and 0.1 s.
    const after = parseMetrics(text(10, [0, 10, 10, 10])).buckets;
    const p50 = quantile(0.5, before, after)!;
    expect(p50).toBeGreaterThan(0.01);
    expect(p50).toBeLessThanOrEqual(0.1);
    expect(quantile(0.5, after, after)).toBeNull();
  });
});
