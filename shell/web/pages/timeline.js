// #/run/RUN?as_of=N: the run's task tree as a Gantt chart over world time, as of the scrubber's
// LSN. Rows are virtual: only the visible window of tasks is drawn, fetched in blocks from
// GET /v1/runs/RUN/timeline?offset=&limit=. Beside it the failures, and the why chain of the
// one clicked (query `why RUN/TASK`).
import * as api from '../lib/api.js';
import * as runview from '../lib/runview.js';
import { h, svg, clear, quote, word, fmtInt } from '../lib/dom.js';

const ROW = 24;
const LABEL_W = 300;
const BLOCK = 200;
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const STATES = ['created', 'ready', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];

// Marks sit in lanes by kind (LLM above, tool in the middle, files and the rest below).
const LANE = { llm: 7, tool: 12 };

function markShape(m, x) {
  const cat = m.type.split('.')[0];
  const cls = `mark m-${cat}` + (m.failed ? ' m-failed' : '');
  const attrs = { class: cls, 'data-mark-lsn': m.lsn, 'data-type': m.type, tabindex: 0 };
  const y = LANE[cat] ?? 17;
  let shape;
  if (cat === 'llm') shape = svg('path', { d: `M${x} ${y - 5} L${x + 4} ${y} L${x} ${y + 5} L${x - 4} ${y} Z` });
  else if (cat === 'tool') shape = svg('rect', { x: x - 3.5, y: y - 3.5, width: 7, height: 7, rx: 1 });
  else shape = svg('circle', { cx: x, cy: y, r: 3.5 });
  return svg('g', attrs, [shape, svg('title', {}, `${m.lsn} ${m.type}${m.label ? ': ' + m.label : ''}`)]);
}

function niceStep(ms) {
  const steps = [100, 250, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 144e5, 288e5, 864e5];
  return steps.find((s) => s >= ms) || 864e5;
}

function clock(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

export async function render(ctx) {
  const view = await runview.mount(ctx, 'timeline');
  const st = { view, blocks: new Map(), meta: null, asOf: null, selected: null, drawToken: 0 };
  ctx.state = st;

  st.summary = h('div', { class: 'summary' });
  st.axis = svg('svg', { class: 'gantt-axis', height: 26 });
  st.gantt = svg('svg', { 'data-testid': 'gantt', class: 'gantt' });
  st.spacer = h('div', { class: 'gantt-spacer' }, st.gantt);
  st.scroll = h('div', { class: 'gantt-scroll' }, st.spacer);
  st.failures = h('div', { 'data-testid': 'failures', class: 'failures' });
  st.why = h('div', { 'data-testid': 'why', class: 'why' }, h('p', { class: 'muted' }, 'Click a failure to see why it failed.'));
  // The time axis spans the whole run, or only the rows in view (short tasks of a long run).
  st.fit = 'run';
  const fitButtons = [['run', 'whole run'], ['rows', 'rows in view']].map(([v, t]) =>
    h('button', {
      class: 'small' + (v === st.fit ? ' on' : ''), 'data-fit': v,
      onclick: () => {
        st.fit = v;
        for (const b of fitButtons) b.classList.toggle('on', b.dataset.fit === v);
        api.guarded(() => draw(ctx));
      },
    }, t));
  const fitBar = h('div', { class: 'fit-bar small muted' }, ['time axis: ', ...fitButtons]);
  const legend = h('div', { class: 'legend' }, [
    ...STATES.map((s) => h('span', {}, [h('i', { class: 'sw st-' + s }), s])),
    h('span', {}, [h('i', { class: 'sw-mark m-llm' }), 'llm']),
    h('span', {}, [h('i', { class: 'sw-mark m-tool' }), 'tool']),
    h('span', {}, [h('i', { class: 'sw-mark m-file' }), 'file']),
  ]);
  view.body.append(
    h('div', { class: 'timeline' }, [
      h('div', { class: 'gantt-col' }, [st.summary, legend, fitBar, st.axis, st.scroll]),
      st.side = h('div', { class: 'side-col' }, [h('h2', {}, 'Failures'), st.failures, h('h2', {}, 'Why'), st.why]),
    ]),
  );
  view.dockPanel(st.side);
  let raf = 0;
  const redraw = () => {
    cancelAnimationFrame(raf);
    raf = requestAnimationFrame(() => api.guarded(() => draw(ctx)));
  };
  st.scroll.addEventListener('scroll', redraw);
  window.addEventListener('resize', redraw);
  ctx.onCleanup(() => window.removeEventListener('resize', redraw));
  await load(ctx);
}

export async function update(ctx) {
  ctx.state.view.sync();
  await load(ctx);
}

function windowUrl(ctx, offset) {
  const p = new URLSearchParams({ offset: String(offset), limit: String(BLOCK) });
  if (ctx.params.get('as_of')) p.set('as_of', String(ctx.state.view.asOf()));
  return `/v1/runs/${encodeURIComponent(ctx.run)}/timeline?${p}`;
}

async function block(ctx, i) {
  const st = ctx.state;
  if (!st.blocks.has(i)) {
    const rowOf = st.rowOf;
    st.blocks.set(i, api.getJSON(windowUrl(ctx, i * BLOCK)).then((b) => {
      b.tasks.forEach((t, k) => rowOf.set(t.id, i * BLOCK + k));
      return b;
    }));
  }
  try {
    return await st.blocks.get(i);
  } catch (e) {
    st.blocks.delete(i);
    throw e;
  }
}

async function load(ctx) {
  const st = ctx.state;
  const ok = ctx.fresh();
  st.blocks = new Map();
  st.rowOf = new Map();
  const asOf = ctx.params.get('as_of') ? st.view.asOf() : null;
  ctx.setQuery(`tasks${asOf ? ' as of ' + asOf : ''} | where run == ${quote(ctx.run)}`);
  const first = await block(ctx, 0);
  if (!ok()) return;
  st.meta = first;
  st.spacer.style.height = `${Math.max(1, first.total_tasks) * ROW}px`;
  const counts = STATES.filter((s) => first.states && first.states[s]).map((s) =>
    h('span', { class: 'count' }, [h('i', { class: 'sw st-' + s }), `${s} ${fmtInt(first.states[s])}`]),
  );
  clear(st.summary).append(
    h('span', {}, `${fmtInt(first.total_tasks)} tasks as of LSN ${st.view.asOf()}`),
    ...counts,
  );
  drawFailures(ctx, first.failures || []);
  await draw(ctx);
}

function drawFailures(ctx, failures) {
  const st = ctx.state;
  clear(st.failures);
  if (!failures.length) {
    st.failures.append(h('p', { class: 'muted' }, 'No failed task at this point.'));
    return;
  }
  for (const f of failures) {
    const el = h(
      'div',
      {
        class: 'failure' + (st.selected === f.id ? ' selected' : ''),
        'data-failed-task': f.id,
        tabindex: 0,
        role: 'button',
        title: 'why did it fail?',
        onclick: () => showWhy(ctx, f.id),
        onkeydown: (e) => e.key === 'Enter' && showWhy(ctx, f.id),
      },
      [
        h('div', { class: 'failure-head' }, [h('b', {}, f.task), h('span', { class: 'muted small' }, `LSN ${f.finished_lsn}`)]),
        h('div', { class: 'small' }, f.name || ''),
        f.error ? h('div', { class: 'small bad' }, f.error) : null,
      ],
    );
    st.failures.append(el);
  }
}

async function showWhy(ctx, id) {
  const st = ctx.state;
  st.selected = id;
  for (const el of st.failures.querySelectorAll('[data-failed-task]')) {
    el.classList.toggle('selected', el.dataset.failedTask === id);
  }
  for (const el of st.gantt.querySelectorAll('[data-task]')) el.classList.toggle('selected', el.dataset.task === id);
  // Bring the task's row into view when a loaded window holds it.
  const row = st.rowOf.get(id);
  if (row !== undefined) {
    const top = row * ROW, view = st.scroll;
    if (top < view.scrollTop || top > view.scrollTop + view.clientHeight - ROW) view.scrollTop = Math.max(0, top - view.clientHeight / 3);
  }
  await ctx.busy((async () => {
    const q = `why ${word(id)}`;
    const rows = await api.query(q);
    if (!ctx.alive() || st.selected !== id) return;
    clear(st.why);
    st.why.append(
      h('div', { class: 'why-head' }, [h('b', {}, id), ' ', h('a', { href: '#/query?q=' + encodeURIComponent(q), class: 'small' }, q)]),
    );
    const chain = h('ol', { class: 'why-chain' });
    (Array.isArray(rows) ? rows : []).forEach((r, i) => {
      if (i > 0) chain.append(h('li', { class: 'why-link' }, r.link));
      chain.append(
        h(
          'li',
          {
            class: 'why-step t-' + String(r.type).split('.')[0] + (r.type === 'task.failed' ? ' failedstep' : ''),
            'data-why-step': r.step,
            'data-lsn': r.lsn,
            'data-type': r.type,
            tabindex: 0,
            title: 'show the event',
            onclick: () => st.view.showEvent(r.lsn),
            onkeydown: (e) => e.key === 'Enter' && st.view.showEvent(r.lsn),
          },
          [
            h('div', { class: 'why-step-head' }, [
              h('span', { class: 'step-no' }, r.step),
              h('span', { class: 'type' }, r.type),
              h('span', { class: 'muted small' }, `LSN ${r.lsn} · task ${r.task}`),
              i === 0 ? h('span', { class: 'small muted' }, r.link) : null,
            ]),
            h('div', { class: 'detail' }, r.detail || ''),
          ],
        ),
      );
    });
    st.why.append(chain);
  })());
}

// The chart's time range: the tasks' own extent when the first window holds every task (the
// run's last events may carry only their record time, far from the run's world time), else the
// endpoint's start_ms..end_ms.
function extent(meta) {
  let lo = Infinity, hi = -Infinity;
  const see = (v) => {
    if (typeof v === 'number') ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  };
  if (meta.tasks && meta.tasks.length >= meta.total_tasks) {
    for (const t of meta.tasks) {
      see(t.created_ms);
      see(t.finished_ms);
      for (const s of t.spans || []) (see(s.from_ms), see(s.to_ms));
      for (const m of t.marks || []) see(m.ms);
    }
  }
  if (!Number.isFinite(lo)) ((lo = meta.start_ms ?? 0), (hi = meta.end_ms ?? 0));
  return [lo, Math.max(hi, lo + 1)];
}

async function draw(ctx) {
  const st = ctx.state;
  const meta = st.meta;
  if (!meta) return;
  const token = ++st.drawToken;
  const width = Math.max(600, st.scroll.clientWidth);
  const total = meta.total_tasks;
  const first = Math.max(0, Math.min(total - 1, Math.floor(st.scroll.scrollTop / ROW) - 5));
  const count = Math.max(0, Math.min(total - first, Math.ceil(st.scroll.clientHeight / ROW) + 10));
  const need = new Set();
  for (let r = first; r < first + count; r++) need.add(Math.floor(r / BLOCK));
  const blocks = new Map();
  for (const b of need) blocks.set(b, await block(ctx, b));
  if (token !== st.drawToken || !ctx.alive()) return;

  const rowsInView = [];
  for (let r = first; r < first + count; r++) {
    const b = blocks.get(Math.floor(r / BLOCK));
    const t = b && b.tasks[r - Math.floor(r / BLOCK) * BLOCK];
    if (t) rowsInView.push(t);
  }
  const [t0, t1] = st.fit === 'rows' ? extent({ tasks: rowsInView, total_tasks: rowsInView.length }) : extent(meta);
  const plotW = width - LABEL_W - 20;
  const x = (ms) => LABEL_W + ((ms - t0) / (t1 - t0)) * plotW;

  // The time axis (clock time, UTC), drawn over the plot area.
  const step = niceStep((t1 - t0) / Math.max(2, Math.floor(plotW / 110)));
  st.axis.setAttribute('width', width);
  clear(st.axis).append(svg('text', { x: 8, y: 17, class: 'axis-title' }, 'task (click for its events) · time UTC'));
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const xx = x(t);
    st.axis.append(svg('line', { x1: xx, x2: xx, y1: 18, y2: 26, class: 'tick' }));
    st.axis.append(svg('text', { x: xx, y: 14, class: 'tick-label', 'text-anchor': xx > width - 40 ? 'end' : 'middle' }, step < 1000 ? new Date(t).toISOString().slice(14, 23) : clock(t)));
  }

  const g = st.gantt;
  g.setAttribute('width', width);
  g.setAttribute('height', count * ROW);
  g.style.top = `${first * ROW}px`;
  clear(g).append(
    svg('defs', {}, [
      svg('clipPath', { id: 'label-clip' }, svg('rect', { x: 0, y: 0, width: LABEL_W - 10, height: ROW })),
      svg('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, [
        svg('rect', { width: 6, height: 6, class: 'hatch-bg' }),
        svg('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch-line' }),
      ]),
    ]),
  );
  for (let r = first; r < first + count; r++) {
    const b = blocks.get(Math.floor(r / BLOCK));
    const t = b && b.tasks[r - Math.floor(r / BLOCK) * BLOCK];
    if (!t) continue;
    const row = svg('g', {
      'data-task': t.id,
      'data-state': t.state,
      class: 'task-row' + (t.state === 'failed' ? ' failed-row' : '') + (st.selected === t.id ? ' selected' : ''),
      transform: `translate(0 ${(r - first) * ROW})`,
    });
    row.append(svg('rect', { class: 'row-bg', x: 0, y: 0, width, height: ROW }));
    const label = svg('text', {
      x: 8 + Math.min(t.depth, 12) * 12, y: 16, class: 'task-label', 'clip-path': 'url(#label-clip)',
      onclick: () => st.view.showTaskEvents(t.id),
    }, [
      svg('tspan', { class: 'task-id' }, t.task + ' '),
      svg('tspan', {}, t.name || ''),
    ]);
    row.append(label, svg('title', {}, `${t.id} · ${t.state}${t.error ? ' · ' + t.error : ''}\n${t.name || ''}`));
    for (const s of t.spans || []) {
      const x1 = x(s.from_ms);
      const x2 = x(s.to_ms === null ? t1 : s.to_ms);
      row.append(
        svg('rect', {
          class: 'span st-' + s.state,
          // A terminal state is an instant: a 4 px cap in its colour ends the bar.
          x: x1, y: 5, width: Math.max(TERMINAL.has(s.state) ? 4 : 1.5, x2 - x1), height: 14,
          'data-lsn': s.lsn,
          onclick: () => st.view.showEvent(s.lsn),
        }, svg('title', {}, `${s.state} from LSN ${s.lsn}`)),
      );
    }
    // Marks closer than a mark's width are nudged apart (a little, never past 12 px from their
    // time) and drawn last to first, so the earlier of two that still overlap stays on top.
    const lastX = {};
    const placed = (t.marks || []).map((m) => {
      const lane = LANE[m.type.split('.')[0]] ?? 17;
      const want = x(m.ms);
      const at = Math.min(want + 12, Math.max(want, (lastX[lane] ?? -Infinity) + 7));
      lastX[lane] = at;
      return [m, at];
    });
    for (const [m, at] of placed.reverse()) {
      const mk = markShape(m, at);
      mk.addEventListener('click', (e) => {
        e.stopPropagation();
        st.view.showEvent(m.lsn);
      });
      mk.addEventListener('keydown', (e) => e.key === 'Enter' && st.view.showEvent(m.lsn));
      row.append(mk);
    }
    if (t.marks_total > (t.marks || []).length) {
      row.append(svg('text', { x: width - 8, y: 16, class: 'more', 'text-anchor': 'end' }, `+${t.marks_total - t.marks.length}`));
    }
    g.append(row);
  }
}
