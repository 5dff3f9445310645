/** A process's steps drawn as a graph: columns by depth, arrows from each parent to its children. */
import { defaultSizes, layoutGraph } from "../graph-layout";
import type { Step } from "../types";

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function StepGraph({ steps, selected, onSelect }: { steps: Step[]; selected: string | null; onSelect(name: string): void }) {
  const layout = layoutGraph(steps);
  const byName = new Map(steps.map((s) => [s.name, s]));
  const { nodeWidth: w, nodeHeight: h } = defaultSizes;
  const key = (e: KeyboardEvent, name: string) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      onSelect(name);
    }
  };
  return (
    <div class="graph-scroll">
      <svg
        class="graph"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="group"
        aria-label={`Step graph: ${steps.length} steps in ${layout.columns} columns`}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L8,4 L0,8 z" class="arrow-head" />
          </marker>
        </defs>
        {layout.edges.map((e) => {
          const done = byName.get(e.from)?.state === "completed";
          return <path key={`${e.from}->${e.to}`} class={`edge${done ? " done" : ""}`} d={e.path} marker-end="url(#arrow)" />;
        })}
        {layout.nodes.map((n) => {
          const s = byName.get(n.name)!;
          const label = `${s.name}: ${s.state}${s.why ? ` — ${s.why}` : ""}`;
          return (
            <g
              key={n.name}
              class={`node state-${s.state}${selected === n.name ? " selected" : ""}`}
              transform={`translate(${n.x},${n.y})`}
              // Lower case: SVG attributes are case-sensitive, and "tabIndex" would make nothing focusable.
              tabindex={0}
              role="button"
              aria-pressed={selected === n.name}
              aria-label={label}
              data-step={s.name}
              onClick={() => onSelect(n.name)}
              onKeyDown={(e) => key(e, n.name)}
            >
              <title>{label}</title>
              <rect width={w} height={h} rx="8" />
              <rect class="node-bar" width="6" height={h} rx="3" />
              <text x="14" y="20" class="node-name">
                {clip(s.name, 19)}
              </text>
              <text x="14" y="37" class="node-state">
                {s.state}
                {s.attempt > 1 ? ` · attempt ${s.attempt}` : ""}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
