/**
 * Layered layout of a process's step graph: one column per depth (the longest chain of parents
 * before a step), steps ordered in their column to keep edges short and crossings few. Pure:
 * no DOM, so it is unit-tested on its own.
 */

/** What the layout needs of a step. */
export interface LayoutStep {
  name: string;
  dependsOn: readonly string[];
}

/** A placed step: its column and row, and its box in pixels. */
export interface PlacedNode {
  name: string;
  column: number;
  row: number;
  x: number;
  y: number;
}

/** An edge from a parent's right side to a child's left side, as an SVG path. */
export interface PlacedEdge {
  from: string;
  to: string;
  path: string;
}

/** The whole picture. */
export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
  columns: number;
}

/** Sizes of the drawing, in pixels. */
export interface LayoutSizes {
  nodeWidth: number;
  nodeHeight: number;
  columnGap: number;
  rowGap: number;
  margin: number;
}

export const defaultSizes: LayoutSizes = { nodeWidth: 168, nodeHeight: 48, columnGap: 56, rowGap: 14, margin: 8 };

/**
 * Depth of every step: 0 without parents, else one more than its deepest parent. Parents that
 * are not steps are ignored; a cycle (which the engine refuses at start) is broken where found.
 */
export function depths(steps: readonly LayoutStep[]): Map<string, number> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0;
    visiting.add(name);
    let d = 0;
    for (const parent of byName.get(name)?.dependsOn ?? []) {
      if (byName.has(parent)) d = Math.max(d, visit(parent) + 1);
    }
    visiting.delete(name);
    depth.set(name, d);
    return d;
  };
  for (const s of steps) visit(s.name);
  return depth;
}

/** Lays out the steps left to right. */
export function layoutGraph(steps: readonly LayoutStep[], sizes: LayoutSizes = defaultSizes): GraphLayout {
  const depth = depths(steps);
  const columns: string[][] = [];
  for (const s of steps) (columns[depth.get(s.name)!] ??= []).push(s.name);
  const byName = new Map(steps.map((s) => [s.name, s]));
  const children = new Map<string, string[]>();
  for (const s of steps) {
    for (const p of s.dependsOn) if (byName.has(p)) children.set(p, [...(children.get(p) ?? []), s.name]);
  }

  // Barycentre ordering: sweep right (by parents' rows), then left (by children's rows), twice.
  // Steps keep their declared order when they have nothing to be ordered by.
  const rowOf = new Map<string, number>();
  const index = () => columns.forEach((col) => col.forEach((n, i) => rowOf.set(n, i)));
  index();
  const centre = (names: readonly string[], fallback: number) => {
    const rows = names.map((n) => rowOf.get(n)).filter((r): r is number => r !== undefined);
    return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : fallback;
  };
  const sortColumn = (c: number, neighbours: (n: string) => readonly string[]) => {
    const col = columns[c];
    if (!col) return;
    const keyed = col.map((n, i) => ({ n, k: centre(neighbours(n).filter((m) => byName.has(m)), i), i }));
    keyed.sort((a, b) => a.k - b.k || a.i - b.i);
    columns[c] = keyed.map((e) => e.n);
    index();
  };
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 1; c < columns.length; c++) sortColumn(c, (n) => byName.get(n)!.dependsOn);
    for (let c = columns.length - 2; c >= 0; c--) sortColumn(c, (n) => children.get(n) ?? []);
  }

  const { nodeWidth: w, nodeHeight: h, columnGap, rowGap, margin } = sizes;
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const height = margin * 2 + tallest * h + (tallest - 1) * rowGap;
  const nodes: PlacedNode[] = [];
  const at = new Map<string, PlacedNode>();
  columns.forEach((col, c) => {
    // Each column is centred vertically, so a lone step sits level with the middle of a fan.
    const colHeight = col.length * h + (col.length - 1) * rowGap;
    const top = margin + (height - margin * 2 - colHeight) / 2;
    col.forEach((name, r) => {
      const node = { name, column: c, row: r, x: margin + c * (w + columnGap), y: top + r * (h + rowGap) };
      nodes.push(node);
      at.set(name, node);
    });
  });
  const edges: PlacedEdge[] = [];
  for (const s of steps) {
    const to = at.get(s.name)!;
    for (const p of s.dependsOn) {
      const from = at.get(p);
      if (!from) continue;
      const x1 = from.x + w;
      const y1 = from.y + h / 2;
      const x2 = to.x;
      const y2 = to.y + h / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      edges.push({ from: p, to: s.name, path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` });
    }
  }
  const width = margin * 2 + Math.max(1, columns.length) * w + Math.max(0, columns.length - 1) * columnGap;
  return { nodes, edges, width, height, columns: columns.length };
}
