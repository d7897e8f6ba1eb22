// #/compare?a=R1&b=R2: two runs side by side (query `diff R1 R2`): the header fields, then the
// tasks, LLM calls, tool calls and files aligned; the first divergence is marked.
import * as api from '../lib/api.js';
import { h, word } from '../lib/dom.js';

const SECTIONS = { run: 'Run', task: 'Tasks', llm: 'LLM calls', tool: 'Tool calls', file: 'Files' };
const MARKS = { equal: '=', changed: '≠', only_a: 'A only', only_b: 'B only' };

function text(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function render(ctx) {
  const a = ctx.params.get('a') || '';
  const b = ctx.params.get('b') || '';
  const runs = (await api.getJSON('/v1/runs')).runs.map((r) => r.run).sort();
  if (!ctx.alive()) return;
  const list = h('datalist', { id: 'run-list' }, runs.map((r) => h('option', { value: r })));
  const ia = h('input', { list: 'run-list', value: a, placeholder: 'run A', 'data-testid': 'compare-a' });
  const ib = h('input', { list: 'run-list', value: b, placeholder: 'run B', 'data-testid': 'compare-b' });
  const go = () => ctx.setParams({ a: ia.value.trim(), b: ib.value.trim() });
  for (const i of [ia, ib]) i.addEventListener('keydown', (e) => e.key === 'Enter' && go());
  const out = h('div', { 'data-testid': 'compare', class: 'compare' });
  ctx.root.append(
    h('div', { class: 'page-head' }, [h('h1', {}, 'Compare runs')]),
    h('div', { class: 'toolbar' }, [list, ia, h('span', {}, 'vs'), ib, h('button', { class: 'primary', onclick: go }, 'Compare')]),
    out,
  );
  if (!a || !b) {
    ctx.setQuery('runs');
    out.append(h('p', { class: 'muted' }, 'Pick two runs (for instance a run and its replay, or two attempts at one task).'));
    return;
  }
  const q = `diff ${word(a)} ${word(b)}`;
  ctx.setQuery(q);
  const rows = await api.query(q);
  if (!ctx.alive() || !Array.isArray(rows)) return;
  const first = rows.find((r) => r.section === 'first_divergence');
  let target = null;
  if (first) {
    const [kind, ...pos] = String(first.item).split(' ');
    target = { kind, item: pos.join(' ') };
    out.append(h('div', { 'data-testid': 'divergence', class: 'divergence' }, [
      h('b', {}, 'First divergence: '),
      h('a', { href: '#', onclick: (e) => {
        e.preventDefault();
        out.querySelector('.diverge')?.scrollIntoView({ block: 'center' });
      } }, `${kind} ${target.item}`),
      ` (${MARKS[first.mark] || first.mark})`,
      h('div', { class: 'div-sides' }, [
        h('div', {}, [h('span', { class: 'muted' }, 'A: '), text(first.a) || '—']),
        h('div', {}, [h('span', { class: 'muted' }, 'B: '), text(first.b) || '—']),
        first.detail && first.detail.length ? h('div', { class: 'muted small' }, 'differs at ' + first.detail.join(', ')) : null,
      ]),
    ]));
  } else {
    out.append(h('div', { 'data-testid': 'divergence', class: 'divergence none' }, 'No divergence: the runs\' calls are the same.'));
  }
  const table = h('table', { class: 'grid compare-table' }, h('thead', {}, h('tr', {}, [
    h('th', {}, ''), h('th', {}, `A: ${a}`), h('th', { class: 'mark-col' }, ''), h('th', {}, `B: ${b}`), h('th', {}, 'detail'),
  ])));
  let section = null;
  let tbody = null;
  for (const r of rows) {
    if (r.section === 'first_divergence') continue;
    if (r.section !== section) {
      section = r.section;
      tbody = h('tbody', {}, h('tr', { class: 'section' }, h('th', { colspan: 5 }, SECTIONS[section] || section)));
      table.append(tbody);
    }
    const isTarget = target && r.section === target.kind && r.item === target.item;
    tbody.append(h('tr', { class: `m-${r.mark}` + (isTarget ? ' diverge' : ''), 'data-mark': r.mark, 'data-section': r.section }, [
      h('td', { class: 'item' }, text(r.item)),
      h('td', { 'data-side': 'a' }, text(r.a)),
      h('td', { class: 'mark-col', title: r.mark }, MARKS[r.mark] || r.mark),
      h('td', { 'data-side': 'b' }, text(r.b)),
      h('td', { class: 'muted small' }, text(r.detail)),
    ]));
  }
  out.append(h('div', { class: 'table-wrap' }, table));
}
