// A small deterministic force-directed layout: nodes start on rings by depth (each near its
// parent's angle), then repulsion between all pairs, springs along edges and a pull to the
// centre settle them. O(n^2) per step: meant for the few hundred nodes of a neighbourhood.
export function layout(nodes, edges, { iterations = 300, ring = 170 } = {}) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const byDepth = new Map();
  for (const n of nodes) {
    const d = n.depth ?? 1;
    if (!byDepth.has(d)) byDepth.set(d, []);
    byDepth.get(d).push(n);
  }
  const angle = new Map();
  for (const d of [...byDepth.keys()].sort((a, b) => a - b)) {
    const list = byDepth.get(d);
    if (d === 0) {
      for (const n of list) ((n.x = 0), (n.y = 0), angle.set(n.id, 0));
      continue;
    }
    // Order by the parent's angle so children sit near their parent.
    list.sort((a, b) => (angle.get(a.parent) ?? 0) - (angle.get(b.parent) ?? 0) || a.id.localeCompare(b.id));
    list.forEach((n, i) => {
      const t = (2 * Math.PI * i) / list.length + d * 0.3;
      angle.set(n.id, t);
      n.x = Math.cos(t) * ring * d;
      n.y = Math.sin(t) * ring * d;
    });
  }
  const springs = edges.filter((e) => byId.has(e.source) && byId.has(e.target) && e.source !== e.target);
  const n = nodes.length;
  const k = ring * 0.8;
  for (let it = 0; it < iterations; it++) {
    const temp = 40 * (1 - it / iterations) + 1;
    for (const a of nodes) ((a.fx = 0), (a.fy = 0));
    for (let i = 0; i < n; i++) {
      const a = nodes[i];
      for (let j = i + 1; j < n; j++) {
        const b = nodes[j];
        let dx = a.x - b.x, dy = a.y - b.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 0.01) ((dx = (i - j) * 0.1), (dy = 0.1), (d2 = dx * dx + dy * dy));
        const f = (k * k) / d2;
        a.fx += dx * f; a.fy += dy * f;
        b.fx -= dx * f; b.fy -= dy * f;
      }
    }
    for (const e of springs) {
      const a = byId.get(e.source), b = byId.get(e.target);
      const dx = b.x - a.x, dy = b.y - a.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 0.01;
      const f = (d * d) / k / d;
      a.fx += dx * f; a.fy += dy * f;
      b.fx -= dx * f; b.fy -= dy * f;
    }
    for (const a of nodes) {
      if (a.depth === 0) continue; // the centre stays put
      a.fx -= a.x * 0.02;
      a.fy -= a.y * 0.02;
      const m = Math.sqrt(a.fx * a.fx + a.fy * a.fy) || 1;
      const step = Math.min(m, temp);
      a.x += (a.fx / m) * step;
      a.y += (a.fy / m) * step;
    }
  }
  return nodes;
}
