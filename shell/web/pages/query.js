// #/query?q=Q: the query language in a box (POST /v1/query); rows as a table, errors as the
// shell prints them, with a caret under the position they name.
import * as api from '../lib/api.js';
import { h, clear } from '../lib/dom.js';

const PAGE_ROWS = 200;
// The daemon sends at most this many rows (and says when there were more).
const MAX_ROWS = 10000;
const EXAMPLES = [
  'runs | select run, status, agent, tasks, failed | sort failed desc',
  "tasks | where state == 'failed' | select id, name, error | limit 20",
  'events | group by type count() as n | sort n desc',
  "events | where type == 'tool.result' and data.exit_code != 0 | select lsn, run, data.exit_code as code | limit 20",
];

export function cellText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export async function render(ctx) {
  const st = {};
  ctx.state = st;
  st.input = h('textarea', {
    'data-testid': 'query-input',
    class: 'query-input',
    rows: 4,
    spellcheck: 'false',
    placeholder: "runs | where status == 'failed'",
  });
  st.input.value = ctx.params.get('q') || '';
  st.run = h('button', { 'data-testid': 'query-run', class: 'primary', onclick: () => submit(ctx) }, 'Run');
  st.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit(ctx);
    }
  });
  st.out = h('div', { class: 'query-out' });
  ctx.root.append(
    h('div', { class: 'page-head' }, [h('h1', {}, 'Query'), h('span', { class: 'muted small' }, 'the shell\'s language (docs/shell.md); Ctrl+Enter runs')]),
    st.input,
    h('div', { class: 'toolbar' }, [
      st.run,
      h('span', { class: 'muted small' }, 'examples:'),
      ...EXAMPLES.map((q) => h('a', { href: '#/query?q=' + encodeURIComponent(q), class: 'example small' }, q.split(' | ')[0] + ' | …')),
    ]),
    st.out,
  );
  await update(ctx);
}

function submit(ctx) {
  const q = ctx.state.input.value;
  if (q === (ctx.params.get('q') || '')) update(ctx);
  else ctx.setParams({ q });
}

export async function update(ctx) {
  const st = ctx.state;
  const q = ctx.params.get('q') || '';
  if (st.input.value !== q) st.input.value = q;
  ctx.setQuery(q || 'runs');
  clear(st.out);
  if (!q.trim()) return;
  await ctx.busy(run(ctx, q, ctx.fresh()));
}

async function run(ctx, q, ok) {
  const st = ctx.state;
  let res;
  try {
    res = await api.query(q, { maxRows: MAX_ROWS });
  } catch (e) {
    if (!(e instanceof api.ApiError) || e.status !== 400) throw e;
    if (!ok()) return;
    st.out.append(h('pre', { 'data-testid': 'query-error', class: 'query-error' }, e.message));
    const c = caret(q, e.message);
    if (c) st.out.append(c);
    return;
  }
  if (!ok()) return;
  if (!Array.isArray(res)) {
    st.out.append(h('div', { 'data-testid': 'query-count', class: 'muted small' }, 'text'),
      h('pre', { 'data-testid': 'query-text', class: 'code' }, res.text));
    return;
  }
  const cols = [];
  const seen = new Set();
  for (const r of res) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), cols.push(k));
  // Rows are drawn a page at a time: laying out a table of 30,000 cells takes the browser
  // about a second, and nobody reads that many rows on screen.
  const tbody = h('tbody');
  const count = h('div', { 'data-testid': 'query-count', class: 'muted small' });
  const more = h('button', { class: 'small', 'data-testid': 'query-more' });
  let drawn = 0;
  const drawMore = () => {
    const frag = document.createDocumentFragment();
    for (const r of res.slice(drawn, drawn + PAGE_ROWS)) {
      const tr = document.createElement('tr');
      for (const c of cols) {
        const td = document.createElement('td');
        if (typeof r[c] === 'number') td.className = 'num';
        td.textContent = cellText(r[c]);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    tbody.appendChild(frag);
    drawn = Math.min(res.length, drawn + PAGE_ROWS);
    count.textContent =
      (res.truncated ? `the first ${res.length} rows (the answer has more: narrow it with where or limit)` : `${res.length} rows`) +
      (drawn < res.length ? ` (showing the first ${drawn})` : '');
    more.hidden = drawn >= res.length;
    more.textContent = `show ${Math.min(PAGE_ROWS, res.length - drawn)} more`;
  };
  more.addEventListener('click', drawMore);
  drawMore();
  st.out.append(
    count,
    h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'query-result', class: 'grid' }, [
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))),
      tbody,
    ])),
    more,
  );
}

// "error at L:C: ..." points at a line and column: show that line with a caret under it.
function caret(q, message) {
  const m = message.match(/^error at (\d+):(\d+):/);
  if (!m) return null;
  const line = q.split('\n')[Number(m[1]) - 1];
  if (line === undefined) return null;
  const col = Math.max(1, Number(m[2]));
  return h('pre', { class: 'caret' }, line + '\n' + ' '.repeat(col - 1) + '^');
}
