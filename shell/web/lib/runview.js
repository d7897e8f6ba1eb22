// The frame shared by a run's three tabs (timeline, files, memory): title, tabs, the as-of
// scrubber (a range over the run's own LSNs; it sets ?as_of= for every tab) and the event
// panel that shows one event's JSON.
import * as api from './api.js';
import { h, clear, word, fmtDuration, fmtTime } from './dom.js';

let runCache = { at: 0, run: null, row: null };

// The run's row (GET /v1/runs?run=R: the one run, not the whole list; cached for a few seconds
// across tab switches).
export async function runInfo(run) {
  if (runCache.run !== run || Date.now() - runCache.at > 5000) {
    const data = await api.getJSON(`/v1/runs?run=${encodeURIComponent(run)}`);
    runCache = { at: Date.now(), run, row: data.runs[0] };
  }
  return runCache.row;
}

function runHash(run, tab, params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return '#/run/' + encodeURIComponent(run) + (tab === 'timeline' ? '' : '/' + tab) + (s ? '?' + s : '');
}

// Builds the frame into ctx.root; returns {body, asOf, info, showEvent, sync}.
export async function mount(ctx, tab) {
  const info = await runInfo(ctx.run);
  if (info.first_lsn == null || info.last_lsn == null) {
    // The run's own LSN range, from the timeline endpoint when the runs list lacks it.
    const t = await api.getJSON(`/v1/runs/${encodeURIComponent(ctx.run)}/timeline?limit=1`);
    info.first_lsn = t.first_lsn;
    info.last_lsn = t.run_last_lsn;
    info.ticks = t.ticks;
  }
  // Sampled (LSN, world time) points of the run: the scrubber's label shows the time of a point.
  const ticks = (info.ticks || []).map((p) => (Array.isArray(p) ? p : [p.lsn, p.ms])).sort((a, b) => a[0] - b[0]);
  const timeAt = (n) => {
    let best = null;
    for (const [lsn, ms] of ticks) {
      if (lsn > n) break;
      best = ms;
    }
    return best === null ? '' : ' · ' + new Date(best).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  };
  const min = info.first_lsn;
  const max = Math.max(info.last_lsn, min);
  const view = { info, min, max };

  const asOfParam = () => {
    const v = Number(ctx.params.get('as_of'));
    return Number.isFinite(v) && v > 0 ? Math.min(Math.max(v, min), max) : max;
  };
  view.asOf = asOfParam;

  const label = h('span', { 'data-testid': 'as-of', class: 'as-of' });
  const timeLabel = h('span', { class: 'muted small as-of-time' });
  const range = h('input', {
    type: 'range',
    min,
    max,
    step: 1,
    value: asOfParam(),
    'data-testid': 'scrubber',
    'aria-label': 'as of LSN',
  });
  const setLabel = (n) => {
    label.textContent = `as of LSN ${n}` + (n >= max ? ' (end of run)' : '');
    label.title = `the run as it was when the log ended at LSN ${n}${timeAt(n)}`;
    timeLabel.textContent = timeAt(n).slice(3);
  };
  setLabel(asOfParam());
  let timer = null;
  const commit = () => {
    clearTimeout(timer);
    const n = Number(range.value);
    if (n === asOfParam() && ctx.params.has('as_of') === n < max) return;
    ctx.setParams({ as_of: n >= max ? '' : String(n) }, { replace: true });
  };
  range.addEventListener('input', () => {
    setLabel(Number(range.value));
    clearTimeout(timer);
    timer = setTimeout(commit, 300);
  });
  range.addEventListener('change', commit);
  ctx.onCleanup(() => clearTimeout(timer));
  const step = (d) => {
    range.value = String(Math.min(max, Math.max(min, Number(range.value) + d)));
    setLabel(Number(range.value));
    commit();
  };

  const tabs = h('nav', { class: 'tabs' }, ['timeline', 'files', 'memory'].map((t) =>
    h('a', { 'data-testid': 'tab-' + t, class: t === tab ? 'active' : '', href: '#' }, t[0].toUpperCase() + t.slice(1)),
  ));
  // Tab links carry the current as_of (and nothing else of this tab's parameters).
  const syncTabs = () => {
    for (const a of tabs.children) {
      const t = a.dataset.testid.slice(4);
      a.href = runHash(ctx.run, t, { as_of: ctx.params.get('as_of') });
    }
  };
  syncTabs();

  const status = h('span', { class: 'badge s-' + info.status, title: info.error || '' }, info.status);
  const meta = [info.agent, info.model, `${info.tasks} tasks`, info.failed ? `${info.failed} failed` : null,
    fmtDuration(info.duration_ms), fmtTime(info.started)].filter(Boolean).join(' · ');
  const scrub = h('div', { class: 'scrubber' }, [
    h('button', { class: 'small', title: 'one LSN back', onclick: () => step(-1) }, '◀'),
    range,
    h('button', { class: 'small', title: 'one LSN on', onclick: () => step(1) }, '▶'),
    h('button', { class: 'small', title: 'the end of the run', onclick: () => { range.value = String(max); commit(); } }, 'end'),
    h('span', { class: 'as-of-box' }, [label, timeLabel]),
    h('span', { class: 'muted small' }, `LSN ${min}–${max}`),
  ]);

  const body = h('div', { class: 'run-body' });
  const eventPre = h('pre', { 'data-testid': 'event-json', class: 'event-json' });
  const eventTitle = h('div', { class: 'panel-title' });
  const listTitle = h('div', { class: 'panel-sub small muted' });
  const list = h('div', { class: 'event-list', 'data-testid': 'task-events' });
  const listBox = h('div', { class: 'event-list-box', hidden: true }, [listTitle, list]);
  const panel = h('aside', { class: 'event-panel', hidden: true }, [
    h('div', { class: 'panel-head' }, [eventTitle, h('button', { class: 'small', title: 'close (Escape)', onclick: () => (panel.hidden = true) }, '×')]),
    listBox,
    eventPre,
  ]);

  ctx.root.append(
    h('div', { class: 'page-head' }, [
      h('h1', {}, [h('a', { href: '#/runs', class: 'muted' }, 'Runs'), ' / ', ctx.run]),
      status,
      h('span', { class: 'muted' }, [meta, ' · ',
        h('a', { href: '#/compare?a=' + encodeURIComponent(ctx.run), title: 'this run side by side with another' }, 'compare…')]),
    ]),
    ...(info.error ? [h('div', { class: 'run-error' }, info.error)] : []),
    h('div', { class: 'run-bar' }, [tabs, scrub]),
    h('div', { class: 'run-main' }, [body, panel]),
  );

  // Escape closes the event panel; [ and ] step the scrubber (outside text fields).
  const onKey = (e) => {
    if (e.key === 'Escape') panel.hidden = true;
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    if (e.key === '[') step(-1);
    if (e.key === ']') step(1);
  };
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));

  // A page with a side column shows the panel there (in the flow, covering nothing); else it
  // floats over the right of the page.
  view.dockPanel = (host) => {
    panel.classList.add('docked');
    host.prepend(panel);
  };
  view.body = body;
  view.showEvent = (lsn, { keepList = false } = {}) =>
    ctx.busy((async () => {
      const ev = await api.eventAt(lsn);
      if (!keepList) listBox.hidden = true;
      for (const el of list.children) el.classList.toggle('selected', el.dataset.lsn === String(lsn));
      eventTitle.textContent = ev ? `event ${lsn} · ${ev.type}` : `event ${lsn}`;
      eventPre.textContent = ev ? JSON.stringify(ev, null, 2) : `no event ${lsn}`;
      panel.hidden = false;
    })());
  // A task's events up to the as-of point (query `timeline RUN/TASK as of N`), each clickable.
  view.showTaskEvents = (id) =>
    ctx.busy((async () => {
      const q = `timeline ${word(id)} as of ${view.asOf()}`;
      const rows = await api.query(q);
      clear(list);
      for (const r of Array.isArray(rows) ? rows : []) {
        list.append(h('div', {
          class: 'ev', 'data-lsn': r.lsn, tabindex: 0, title: r.summary || r.type,
          onclick: () => view.showEvent(r.lsn, { keepList: true }),
          onkeydown: (e) => e.key === 'Enter' && view.showEvent(r.lsn, { keepList: true }),
        }, [h('span', { class: 'lsn' }, r.lsn), h('span', { class: 'type' }, r.type), h('span', { class: 'sum' }, r.summary || '')]));
      }
      eventTitle.textContent = `task ${id}`;
      listTitle.replaceChildren(`${list.children.length} events as of LSN ${view.asOf()} · `,
        h('a', { href: '#/query?q=' + encodeURIComponent(q) }, 'as query'));
      eventPre.textContent = 'Click an event for its JSON.';
      listBox.hidden = false;
      panel.hidden = false;
    })());
  // After a hash change: the scrubber and tabs follow the URL.
  view.sync = () => {
    range.value = String(asOfParam());
    setLabel(asOfParam());
    syncTabs();
  };
  return view;
}
