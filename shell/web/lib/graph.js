// A radial tree layout for a node's neighbourhood: the centre in the middle, each hop on a ring
// further out, each node in a sector of its parent's sized by the leaves below it, so children
// sit beside their parent and no two nodes of a ring overlap. Deterministic (the same rows give
// the same picture) and linear in the number of nodes.
//
// nodes: [{id, depth, parent}] (depth 0: the centre; parent: the node it was reached from);
// sets x, y, angle (radians) and children (how many hang below it) on each.
export function layout(nodes, { ring = 150, spacing = 26 } = {}) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const kids = new Map();
  const roots = [];
  for (const n of nodes) {
    const p = n.depth > 0 ? byId.get(n.parent) : null;
    if (p && p !== n) {
      if (!kids.has(p.id)) kids.set(p.id, []);
      kids.get(p.id).push(n);
    } else {
      roots.push(n);
    }
  }
  for (const list of kids.values()) list.sort((a, b) => a.id.localeCompare(b.id));
  for (const n of nodes) n.children = (kids.get(n.id) || []).length;
  const leaves = new Map();
  const countLeaves = (n) => {
    const c = kids.get(n.id) || [];
    const v = c.length ? c.reduce((s, k) => s + countLeaves(k), 0) : 1;
    leaves.set(n.id, v);
    return v;
  };
  roots.forEach(countLeaves);

  // Ring radii: far enough apart, and large enough for the ring's nodes at `spacing` apart.
  const perDepth = new Map();
  const depthOf = new Map();
  const walkDepth = (n, d) => {
    depthOf.set(n.id, d);
    perDepth.set(d, (perDepth.get(d) || 0) + 1);
    for (const k of kids.get(n.id) || []) walkDepth(k, d + 1);
  };
  roots.forEach((r, i) => walkDepth(r, i === 0 ? 0 : 1));
  let unit = ring;
  for (const [d, count] of perDepth) if (d > 0) unit = Math.max(unit, (count * spacing) / (2 * Math.PI * d));

  const place = (n, a0, a1) => {
    const d = depthOf.get(n.id);
    const a = (a0 + a1) / 2;
    n.angle = a;
    // The first ring sits further out than one step: room for labels between it and the centre.
    const r = d === 0 ? 0 : unit * (d + 0.7);
    n.x = Math.cos(a) * r;
    n.y = Math.sin(a) * r;
    const c = kids.get(n.id) || [];
    const total = c.reduce((s, k) => s + leaves.get(k.id), 0);
    let at = a0;
    for (const k of c) {
      const w = ((a1 - a0) * leaves.get(k.id)) / total;
      place(k, at, at + w);
      at += w;
    }
  };
  // The centre takes the whole circle; other roots (if any) share one more sector.
  if (roots.length) place(roots[0], -Math.PI / 2, (3 * Math.PI) / 2);
  roots.slice(1).forEach((r, i) => {
    const a = (2 * Math.PI * (i + 0.5)) / Math.max(1, roots.length - 1);
    place(r, a - 0.1, a + 0.1);
  });
  return nodes;
}
