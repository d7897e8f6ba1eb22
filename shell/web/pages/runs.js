// #/runs: every run (GET /v1/runs) with filter and sortable columns, kept live by the follow
// stream of the log's end (/v1/events?follow=1&heads=1): each head refetches the table, debounced.
import * as api from '../lib/api.js';
import { h, clear, fmtInt, fmtDuration, fmtTime } from '../lib/dom.js';

const COLUMNS = [
  { field: 'run', title: 'Run' },
  { field: 'status', title: 'Status' },
  { field: 'agent', title: 'Agent' },
  { field: 'model', title: 'Model' },
  { field: 'tasks', title: 'Tasks', num: true },
  { field: 'failed', title: 'Failed', num: true },
  { field: 'llm_calls', title: 'LLM calls', num: true },
  { field: 'input_tokens', title: 'Tokens in', num: true },
  { field: 'output_tokens', title: 'Tokens out', num: true },
  { field: 'duration_ms', title: 'Duration', num: true, fmt: fmtDuration },
  { field: 'started', title: 'Started', fmt: fmtTime },
];

function cell(run, col) {
  const v = run[col.field];
  if (col.field === 'run') {
    return h('td', { 'data-col': 'run' }, [
      h('a', { href: '#/run/' + encodeURIComponent(run.run) }, run.run),
      run.name && run.name !== run.run ? h('div', { class: 'muted small' }, run.name) : null,
    ]);
  }
  if (col.field === 'status') {
    return h('td', { 'data-col': 'status', title: run.error || '' }, h('span', { class: 'badge s-' + v }, v ?? ''));
  }
  const text = col.fmt ? col.fmt(v) : col.num ? fmtInt(v) : v ?? '';
  const cls = [col.num ? 'num' : '', col.field === 'failed' && v > 0 ? 'bad' : ''].join(' ').trim();
  return h('td', { 'data-col': col.field, class: cls || null }, text);
}

function compare(a, b, field) {
  const x = a[field], y = b[field];
  if (x === y) return 0;
  if (x === null || x === undefined) return 1;
  if (y === null || y === undefined) return -1;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x).localeCompare(String(y));
}

export async function render(ctx) {
  ctx.setQuery('runs');
  const state = {
    runs: [],
    lastLsn: 0,
    sort: ctx.params.get('sort') || 'started',
    dir: ctx.params.get('dir') || 'desc',
    filter: ctx.params.get('filter') || '',
    limit: 1000,
  };
  const live = h('span', { class: 'live', 'data-testid': 'live' }, 'connecting');
  const filter = h('input', {
    type: 'search',
    placeholder: 'filter runs (run, agent, model, status, error)',
    'data-testid': 'runs-filter',
    value: state.filter,
  });
  const summary = h('span', { class: 'muted' });
  const more = h('button', { class: 'small', hidden: true, onclick: () => ((state.limit += 1000), drawBody()) }, 'show 1000 more');
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'grid runs', 'data-testid': 'runs-table' }, [thead, tbody]);
  ctx.root.append(
    h('div', { class: 'page-head' }, [h('h1', {}, 'Runs'), summary, h('span', { class: 'spacer' }), live]),
    h('div', { class: 'toolbar' }, [filter]),
    h('div', { class: 'table-wrap' }, table),
    more,
  );

  const drawHead = () => {
    clear(thead).append(
      h(
        'tr',
        {},
        COLUMNS.map((c) =>
          h(
            'th',
            {
              'data-sort': c.field,
              class: (c.num ? 'num ' : '') + (state.sort === c.field ? 'sorted ' + state.dir : ''),
              title: 'sort by ' + c.field,
              onclick: () => {
                if (state.sort === c.field) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
                else {
                  state.sort = c.field;
                  state.dir = c.num || c.field === 'started' ? 'desc' : 'asc';
                }
                drawHead();
                drawBody();
              },
            },
            c.title,
          ),
        ),
      ),
    );
  };
  const drawBody = () => {
    const f = state.filter.trim().toLowerCase();
    let rows = state.runs;
    if (f) {
      rows = rows.filter((r) =>
        ['run', 'name', 'agent', 'model', 'status', 'error'].some((k) => String(r[k] ?? '').toLowerCase().includes(f)),
      );
    }
    const sign = state.dir === 'asc' ? 1 : -1;
    rows = [...rows].sort((a, b) => {
      const c = compare(a, b, state.sort);
      // Nulls last in both directions, as the query language sorts.
      if (a[state.sort] == null || b[state.sort] == null) return c;
      return sign * c || compare(a, b, 'run');
    });
    // At most state.limit rows are drawn (a store of thousands of runs; "show more" adds).
    clear(tbody).append(
      ...rows.slice(0, state.limit).map((r) => h('tr', { 'data-run': r.run, class: 's-row-' + r.status }, COLUMNS.map((c) => cell(r, c)))),
    );
    summary.textContent =
      (rows.length === state.runs.length ? `${state.runs.length} runs` : `${rows.length} of ${state.runs.length} runs`) +
      (rows.length > state.limit ? `, the first ${state.limit} shown` : '');
    more.hidden = rows.length <= state.limit;
  };
  // "/" focuses the filter, as in many list views.
  const onKey = (e) => {
    if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) {
      e.preventDefault();
      filter.focus();
    }
  };
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
  filter.addEventListener('input', () => {
    state.filter = filter.value;
    drawBody();
  });

  const load = async () => {
    const data = await api.getJSON('/v1/runs');
    if (!ctx.alive()) return;
    state.runs = data.runs;
    state.lastLsn = Math.max(state.lastLsn, data.last_lsn);
    drawBody();
    // A daemon that just started is still adding up the tokens (empty cells): ask again.
    if (data.totals_pending) {
      summary.textContent += ' · adding up tokens…';
      const again = setTimeout(() => ctx.alive() && api.guarded(load), 1000);
      ctx.onCleanup(() => clearTimeout(again));
    }
  };
  drawHead();
  await load();
  // Left while the runs were loading: no stream (it would start from LSN 1, the whole log).
  if (!ctx.alive()) return;

  // Live: follow the log from past what the table shows; any event refetches the runs.
  // At most one refetch per 500 ms however fast events arrive.
  let pending = null;
  const refetch = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      api.guarded(load);
    }, 500);
  };
  refetch.cancel = () => clearTimeout(pending);
  // heads=1: only where the log ends, once per append however many events it holds (the page
  // never receives the events themselves).
  const es = new EventSource(`/v1/events?follow=1&heads=1&from=${state.lastLsn + 1}`);
  es.addEventListener('open', () => {
    live.textContent = 'live';
    live.classList.add('on');
  });
  es.addEventListener('head', refetch);
  es.addEventListener('error', () => {
    live.textContent = es.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting';
    live.classList.remove('on');
  });
  ctx.onCleanup(() => {
    refetch.cancel();
    es.close();
  });
}
