// #/run/RUN/memory?node=ID&depth=K&as_of=N: the memory graph around a node as of the scrubber
// (query `neighbors ID depth K as of N`), laid out as a radial tree, edges labelled with their
// relation; edges retracted by then (memory.retract events of the run) drawn dashed.
import * as api from '../lib/api.js';
import * as runview from '../lib/runview.js';
import { layout } from '../lib/graph.js';
import { h, svg, clear, quote, word } from '../lib/dom.js';

const MAX_NODES = 250;
const MAX_RETRACTS = 40;
const COLORS = { Run: '#3b6fd8', Task: '#7a55c7', File: '#d9822b', Tool: '#178a7a', Model: '#b3437a' };

function color(labels) {
  for (const l of labels || []) if (COLORS[l]) return COLORS[l];
  return '#6b7785';
}

// A node's label: its id without the kind and run prefixes (file:RUN/src/a.py -> a.py,
// task:RUN/3 -> task 3, run:RUN -> RUN).
function short(id) {
  const m = String(id).match(/^([a-z_]+):(.*)$/i);
  let text = m ? m[2] : String(id);
  if (text.includes('/') && m && m[1] !== 'run') text = text.split('/').pop() || text;
  if (m && m[1] === 'task') text = 'task ' + text;
  return text.length > 28 ? text.slice(0, 27) + '…' : text;
}

// "src|rel|dst", the default edge id, names its ends.
function ends(id) {
  const p = String(id).split('|');
  return p.length === 3 ? { src: p[0], rel: p[1], dst: p[2] } : null;
}

export async function render(ctx) {
  const view = await runview.mount(ctx, 'memory');
  const st = { view };
  ctx.state = st;
  st.picker = h('input', { list: 'node-list', 'data-testid': 'node-input', class: 'node-input', placeholder: 'node id, e.g. run:' + ctx.run });
  st.list = h('datalist', { id: 'node-list' });
  st.depth = h('select', { 'data-testid': 'depth' }, [1, 2, 3].map((d) => h('option', { value: d }, `depth ${d}`)));
  const go = () => ctx.setParams({ node: st.picker.value.trim(), depth: st.depth.value });
  st.picker.addEventListener('keydown', (e) => e.key === 'Enter' && go());
  st.depth.addEventListener('change', go);
  st.note = h('span', { class: 'muted small' });
  st.graph = svg('svg', { 'data-testid': 'graph', class: 'graph' });
  st.info = h('div', { class: 'node-info' });
  view.body.append(
    h('div', { class: 'toolbar' }, [st.list, st.picker, st.depth, h('button', { class: 'primary', onclick: go }, 'Show'), st.note]),
    h('div', { class: 'memory' }, [h('div', { class: 'graph-wrap' }, st.graph), st.info]),
  );
  enablePanZoom(st.graph);
  await load(ctx);
}

export async function update(ctx) {
  ctx.state.view.sync();
  await load(ctx);
}

async function load(ctx) {
  const st = ctx.state;
  const ok = ctx.fresh();
  const asOf = st.view.asOf();
  const asOfText = ctx.params.get('as_of') ? ` as of ${asOf}` : '';
  const nodes = await api.query(`nodes${asOfText} | where run == ${quote(ctx.run)} | select id, labels | limit 5000`);
  if (!ok()) return;
  const ids = (Array.isArray(nodes) ? nodes : []).map((n) => n.id);
  clear(st.list).append(...ids.map((id) => h('option', { value: id })));
  let node = ctx.params.get('node') || '';
  if (!node) node = ids.includes('run:' + ctx.run) ? 'run:' + ctx.run : ids[0] || '';
  st.picker.value = node;
  const depth = Number(ctx.params.get('depth')) || 2;
  st.depth.value = String(depth);
  if (!node) {
    clear(st.graph);
    st.note.textContent = `No memory node of this run as of LSN ${asOf}.`;
    ctx.setQuery(`nodes${asOfText} | where run == ${quote(ctx.run)}`);
    return;
  }
  const q = `neighbors ${word(node)} depth ${depth}${asOfText}`;
  ctx.setQuery(q);
  let rows;
  try {
    rows = await api.query(q);
  } catch (e) {
    // A node that is not in the graph at this point (retracted, or not yet written).
    if (!(e instanceof api.ApiError) || e.status !== 400) throw e;
    clear(st.graph);
    clear(st.info).append(h('p', { class: 'muted' }, e.message));
    st.note.textContent = '';
    return;
  }
  if (!ok()) return;
  rows = Array.isArray(rows) ? rows : [];
  const total = rows.length;
  if (rows.length > MAX_NODES) rows = rows.slice(0, MAX_NODES);
  const centre = await api.query(`nodes${asOfText} | where id == ${quote(node)}`);
  const gnodes = [{ id: node, depth: 0, labels: centre[0]?.labels || [], props: centre[0]?.props || {} }];
  const gedges = [];
  for (const r of rows) {
    gnodes.push({ id: r.id, depth: r.depth, labels: r.labels, props: r.props, parent: r.via_node });
    const e = ends(r.via_edge) || { src: r.via_node, rel: r.via_rel, dst: r.id };
    gedges.push({ id: r.via_edge, source: e.src, target: e.dst, rel: r.via_rel, retracted: false });
  }
  await addRetracted(ctx, gnodes, gedges, asOf);
  if (!ok()) return;
  st.note.textContent = `${gnodes.length} nodes, ${gedges.length} edges as of LSN ${asOf}` +
    (total > MAX_NODES ? ` (first ${MAX_NODES} of ${total} neighbours)` : '');
  layout(gnodes);
  draw(ctx, gnodes, gedges, node);
  showNode(ctx, gnodes[0]);
}

// Edges of the run retracted at or before as-of that touch the drawn nodes: dashed, with the
// retraction's reason. Their other end, if not drawn, is added as a faded node.
async function addRetracted(ctx, gnodes, gedges, asOf) {
  const rows = await api.query(
    `events | where run == ${quote(ctx.run)} and type == 'memory.retract' | where lsn <= ${asOf} and data.kind == 'edge' | select lsn, data.target as target, data.reason as reason | limit ${MAX_RETRACTS}`,
  );
  if (!Array.isArray(rows)) return;
  const have = new Set(gnodes.map((n) => n.id));
  for (const r of rows) {
    let e = ends(r.target);
    if (!e) {
      const hist = await api.query(`history ${word(r.target)}`);
      const v = Array.isArray(hist) ? hist.find((x) => x.src) : null;
      if (!v) continue;
      e = { src: v.src, rel: v.rel, dst: v.dst };
    }
    if (!have.has(e.src) && !have.has(e.dst)) continue;
    for (const id of [e.src, e.dst]) {
      if (!have.has(id)) {
        have.add(id);
        gnodes.push({ id, depth: 3, labels: [], props: {}, ghost: true, parent: id === e.src ? e.dst : e.src });
      }
    }
    gedges.push({ id: r.target, source: e.src, target: e.dst, rel: e.rel, retracted: true, reason: r.reason, lsn: r.lsn });
  }
}

function draw(ctx, gnodes, gedges, centreId) {
  const g = ctx.state.graph;
  const byId = new Map(gnodes.map((n) => [n.id, n]));
  // Fit the layout to the drawing area at 1:1, so labels keep their size however many nodes.
  const W = g.clientWidth || 900, H = g.clientHeight || 560, pad = 120;
  const xs = gnodes.map((n) => n.x), ys = gnodes.map((n) => n.y);
  const bx = Math.max(1, Math.max(...xs) - Math.min(...xs)), by = Math.max(1, Math.max(...ys) - Math.min(...ys));
  // Each axis on its own: the rings become ellipses as wide as the drawing area.
  const fy = Math.min(1.5, (H - 2 * pad) / by);
  const fx = Math.min(Math.max(fy, 1.5), (W - 2 * pad) / bx);
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  for (const n of gnodes) ((n.x = (n.x - cx) * fx), (n.y = (n.y - cy) * fy));
  g.setAttribute('viewBox', `${-W / 2} ${-H / 2} ${W} ${H}`);
  g.classList.toggle('dense', gnodes.length > 150);
  clear(g).append(svg('defs', {}, [
    svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      svg('path', { d: 'M0 0 L10 5 L0 10 z', class: 'arrow' })),
  ]));
  const edgeLayer = svg('g', { class: 'edges' });
  const nodeLayer = svg('g', { class: 'nodes' });
  g.append(edgeLayer, nodeLayer);
  // Many edges of one relation fanning out of one node: label one of them, the rest on hover.
  const fan = new Map();
  for (const e of gedges) {
    const k = e.source + '\u0000' + e.rel;
    fan.set(k, (fan.get(k) || 0) + 1);
  }
  const labelled = new Set();
  for (const e of gedges) {
    const a = byId.get(e.source), b = byId.get(e.target);
    const k = e.source + '\u0000' + e.rel;
    const dup = !e.retracted && fan.get(k) > 8 && labelled.has(k);
    labelled.add(k);
    if (!a || !b) continue;
    const dx = b.x - a.x, dy = b.y - a.y;
    const d = Math.sqrt(dx * dx + dy * dy) || 1;
    const r = 11;
    const x1 = a.x + (dx / d) * r, y1 = a.y + (dy / d) * r, x2 = b.x - (dx / d) * (r + 2), y2 = b.y - (dy / d) * (r + 2);
    const near = (a.depth ?? 1) <= 1 && (b.depth ?? 1) <= 1;
    const attrs = { 'data-edge': e.id, class: 'edge' + (near ? ' near' : '') + (dup ? ' dup' : '') + (e.retracted ? ' retracted' : '') };
    if (e.retracted) attrs['data-retracted'] = 'true';
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
    let deg = (Math.atan2(dy, dx) * 180) / Math.PI;
    if (deg > 90 || deg < -90) deg += 180;
    edgeLayer.append(svg('g', attrs, [
      svg('line', { x1, y1, x2, y2, 'marker-end': 'url(#arrow)' }),
      svg('text', { transform: `translate(${mx} ${my}) rotate(${deg})`, y: -3, 'text-anchor': 'middle', class: 'edge-label' },
        e.rel + (e.retracted ? ' (retracted)' : '')),
      svg('title', {}, `${e.id}${e.retracted ? `\nretracted at LSN ${e.lsn}: ${e.reason || ''}` : ''}`),
    ]));
  }
  for (const n of gnodes) {
    const el = svg('g', {
      'data-node': n.id,
      class: `node d${Math.min(n.depth ?? 1, 3)}` + (n.id === centreId ? ' centre' : '') + (n.ghost ? ' ghost' : ''),
      transform: `translate(${n.x} ${n.y})`,
      tabindex: 0,
    }, [
      svg('circle', { r: n.id === centreId ? 14 : 10, fill: n.ghost ? '#fff' : color(n.labels) }),
      nodeLabel(n, n.id === centreId),
      svg('title', {}, `${n.id}\n${(n.labels || []).join(', ')}\n${JSON.stringify(n.props || {})}`),
    ]);
    el.addEventListener('click', () => showNode(ctx, n));
    el.addEventListener('dblclick', () => ctx.setParams({ node: n.id }));
    el.addEventListener('keydown', (e) => e.key === 'Enter' && ctx.setParams({ node: n.id }));
    nodeLayer.append(el);
  }
}

// The centre's label under it; a leaf's pointing away from the centre along its ray, and that
// of a node with children (whose edges go on outward) along the ray towards the centre.
function nodeLabel(n, centre) {
  if (centre || (n.x === 0 && n.y === 0)) return svg('text', { y: 28, 'text-anchor': 'middle', class: 'node-label' }, short(n.id));
  const a = Math.atan2(n.y, n.x);
  let deg = (a * 180) / Math.PI;
  const left = Math.cos(a) < 0;
  if (left) deg += 180;
  const outward = !(n.children > 0);
  const start = left !== outward;
  return svg('text', {
    transform: `rotate(${deg})`, x: start ? 15 : -15, dy: '0.35em', 'text-anchor': start ? 'start' : 'end', class: 'node-label',
  }, short(n.id));
}

function showNode(ctx, n) {
  const st = ctx.state;
  for (const el of st.graph.querySelectorAll('[data-node]')) el.classList.toggle('selected', el.dataset.node === n.id);
  clear(st.info).append(
    h('h2', {}, n.id),
    h('div', { class: 'muted small' }, (n.labels || []).join(', ') || (n.ghost ? 'end of a retracted edge' : '')),
    h('pre', { class: 'code small' }, JSON.stringify(n.props || {}, null, 2)),
    h('div', { class: 'toolbar' }, [
      h('button', { onclick: () => ctx.setParams({ node: n.id }) }, 'Centre here'),
      h('a', { href: '#/query?q=' + encodeURIComponent(`history ${word(n.id)}`) }, 'history'),
    ]),
    h('p', { class: 'muted small' }, 'Click a node for its properties, double-click to centre on it; drag to pan, wheel to zoom.'),
  );
}

function enablePanZoom(g) {
  let drag = null;
  const vb = () => g.getAttribute('viewBox')?.split(' ').map(Number);
  g.addEventListener('wheel', (e) => {
    const v = vb();
    if (!v) return;
    e.preventDefault();
    const f = e.deltaY > 0 ? 1.15 : 1 / 1.15;
    const r = g.getBoundingClientRect();
    const px = v[0] + ((e.clientX - r.left) / r.width) * v[2];
    const py = v[1] + ((e.clientY - r.top) / r.height) * v[3];
    g.setAttribute('viewBox', `${px - (px - v[0]) * f} ${py - (py - v[1]) * f} ${v[2] * f} ${v[3] * f}`);
  }, { passive: false });
  g.addEventListener('pointerdown', (e) => {
    if (e.target.closest('[data-node]')) return;
    drag = { x: e.clientX, y: e.clientY, v: vb() };
  });
  window.addEventListener('pointerup', () => (drag = null));
  g.addEventListener('pointermove', (e) => {
    if (!drag || !drag.v) return;
    const r = g.getBoundingClientRect();
    const s = drag.v[2] / r.width;
    g.setAttribute('viewBox', `${drag.v[0] - (e.clientX - drag.x) * s} ${drag.v[1] - (e.clientY - drag.y) * s} ${drag.v[2]} ${drag.v[3]}`);
  });
}
