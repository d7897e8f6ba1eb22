// #/run/RUN/files?as_of=N&path=P&view=content|diff|range&a=A&b=B: the run's canvas as of
// the scrubber (query `files as of N | where run == R`); a file's content
// (GET /v1/runs/RUN/file) beside its blame (query `blame P --run R as of N`), and its diff
// against the base or between two of its versions, side by side (`diff P --run R @A @B`).
import * as api from '../lib/api.js';
import * as runview from '../lib/runview.js';
import { sideBySide } from '../lib/diff.js';
import { h, clear, quote, word, fmtInt } from '../lib/dom.js';

const VIEWS = [
  ['content', 'Content and blame'],
  ['diff', 'Diff vs base'],
  ['range', 'Diff between points'],
];

export async function render(ctx) {
  const view = await runview.mount(ctx, 'files');
  const st = { view, files: [] };
  ctx.state = st;
  st.tree = h('div', { 'data-testid': 'file-tree', class: 'file-tree' });
  st.treeHead = h('div', { class: 'muted small' });
  st.panel = h('div', { class: 'file-panel' });
  const bundle = h('a', {
    'data-testid': 'download-bundle',
    class: 'button',
    href: `/v1/runs/${encodeURIComponent(ctx.run)}/bundle`,
    download: `${ctx.run}.bundle`,
    title: 'the canvas history as a git bundle: git clone RUN.bundle',
  }, 'Download git bundle');
  view.body.append(
    h('div', { class: 'files' }, [
      h('div', { class: 'tree-col' }, [h('div', { class: 'tree-head' }, [h('h2', {}, 'Canvas'), bundle]), st.treeHead, st.tree]),
      st.panel,
    ]),
  );
  await load(ctx);
}

export async function update(ctx) {
  ctx.state.view.sync();
  await load(ctx);
}

function asOfClause(ctx) {
  return ctx.params.get('as_of') ? ` as of ${ctx.state.view.asOf()}` : '';
}

async function load(ctx) {
  const st = ctx.state;
  const ok = ctx.fresh();
  const q = `files${asOfClause(ctx)} | where run == ${quote(ctx.run)}`;
  ctx.setQuery(q);
  const rows = await api.query(q);
  if (!ok()) return;
  st.files = Array.isArray(rows) ? rows : [];
  drawTree(ctx);
  await drawPanel(ctx, ok);
}

function drawTree(ctx) {
  const st = ctx.state;
  const sel = ctx.params.get('path');
  const changed = st.files.filter((f) => !f.base).length;
  const n = st.files.length;
  st.treeHead.textContent = `${fmtInt(n)} file${n === 1 ? '' : 's'} as of LSN ${st.view.asOf()}, ${fmtInt(changed)} written by the run`;
  // Nest by directory; directories first, then files, each by name.
  const root = { dirs: new Map(), files: [] };
  for (const f of st.files) {
    const parts = f.path.split('/');
    let node = root;
    for (const d of parts.slice(0, -1)) {
      if (!node.dirs.has(d)) node.dirs.set(d, { dirs: new Map(), files: [], changed: 0 });
      node = node.dirs.get(d);
      if (!f.base) node.changed++;
    }
    node.files.push(f);
  }
  const build = (node, prefix) => {
    const ul = h('ul');
    for (const [name, d] of [...node.dirs].sort((a, b) => a[0].localeCompare(b[0]))) {
      const path = prefix + name + '/';
      const open = d.changed > 0 || (sel && sel.startsWith(path)) || st.files.length < 60;
      ul.append(h('li', {}, h('details', { open }, [
        h('summary', { class: d.changed ? 'dir changed' : 'dir' }, name + '/'),
        build(d, path),
      ])));
    }
    for (const f of node.files.sort((a, b) => a.path.localeCompare(b.path))) {
      const name = f.path.slice(prefix.length);
      ul.append(h('li', {}, h('a', {
        'data-path': f.path,
        class: 'file' + (f.base ? '' : ' changed') + (f.path === sel ? ' selected' : ''),
        href: '#',
        title: `${f.path}\n${f.type} at LSN ${f.lsn} by task ${f.task}${f.base ? ' (base)' : ''}, ${f.size} bytes`,
        onclick: (e) => {
          e.preventDefault();
          ctx.setParams({ path: f.path });
        },
      }, [name, h('span', { class: 'lsn' }, f.base ? '' : String(f.lsn))])));
    }
    return ul;
  };
  clear(st.tree).append(st.files.length ? build(root, '') : h('p', { class: 'muted' }, 'No file at this point.'));
}

async function drawPanel(ctx, ok) {
  const st = ctx.state;
  const path = ctx.params.get('path');
  clear(st.panel);
  if (!path) {
    st.panel.append(h('p', { class: 'muted' }, 'Pick a file. Files the run wrote are marked blue, with the LSN of their last write.'));
    return;
  }
  const file = st.files.find((f) => f.path === path);
  const mode = ctx.params.get('view') || 'content';
  const tabs = h('nav', { class: 'subtabs' }, VIEWS.map(([v, title]) =>
    h('a', {
      href: '#', class: v === mode ? 'active' : '', 'data-view': v,
      onclick: (e) => {
        e.preventDefault();
        ctx.setParams({ view: v === 'content' ? '' : v });
      },
    }, title),
  ));
  const head = h('div', { class: 'file-head' }, [
    h('h2', {}, path),
    file ? h('span', { class: 'muted small' }, `${file.type} at LSN ${file.lsn} by task ${file.task} · ${fmtInt(file.size)} bytes${file.base ? ' · base' : ''}`) : null,
  ]);
  const out = h('div', { class: 'file-view' });
  st.panel.append(head, tabs, out);
  const run = ctx.run;
  const asOf = st.view.asOf();

  if (mode === 'content') {
    if (!file) {
      out.append(h('p', { class: 'muted', 'data-testid': 'file-content' }, `${path} does not exist as of LSN ${asOf}.`));
      return;
    }
    // The content with its blame beside it: one gutter row per line, the LSN that wrote it.
    const p = new URLSearchParams({ path, as_of: String(asOf) });
    const q = `blame ${word(path)} --run ${word(run)} as of ${asOf}`;
    const [res, rows] = await Promise.all([
      api.send(`/v1/runs/${encodeURIComponent(run)}/file?${p}`),
      api.query(q),
    ]);
    const binary = !/^text\//.test(res.headers.get('Content-Type') || '');
    const text = binary ? '' : await res.text();
    if (!ok()) return;
    if (binary) {
      out.append(h('p', { class: 'muted', 'data-testid': 'file-content' }, `${path} is not UTF-8 text (${fmtInt(file.size)} bytes).`));
      return;
    }
    const pre = h('pre', { 'data-testid': 'file-content', class: 'code numbered' });
    const lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((l, i) => pre.append(h('span', { class: 'line' }, l + (i < lines.length - 1 || text.endsWith('\n') ? '\n' : ''))));
    const gutter = h('div', { 'data-testid': 'blame', class: 'blame-gutter' });
    let prev = null;
    for (const r of Array.isArray(rows) ? rows : []) {
      const same = prev === r.lsn;
      prev = r.lsn;
      gutter.append(h('div', { class: 'bl' + (same ? ' same' : ''), title: `LSN ${r.lsn}: ${r.type} by task ${r.task}` }, [
        h('a', {
          href: '#', 'data-lsn': r.lsn,
          onclick: (e) => {
            e.preventDefault();
            st.view.showEvent(r.lsn);
          },
        }, String(r.lsn)),
        h('span', { class: 'bl-task' }, same ? '' : r.task),
      ]));
    }
    out.append(h('div', { class: 'query-link small' }, ['blame: ', h('a', { href: '#/query?q=' + encodeURIComponent(q) }, q)]),
      h('div', { class: 'blamed' }, [gutter, pre]));
    return;
  }

  // Diffs: the file's versions give the points.
  const hq = `history ${word(path)} --run ${word(run)}`;
  const hv = await api.query(hq);
  const versions = Array.isArray(hv) ? hv : [];
  if (!ok()) return;
  const upTo = versions.filter((v) => v.lsn <= asOf);
  const bases = upTo.filter((v) => v.base);
  const basePoint = bases.length ? bases[bases.length - 1].lsn : upTo.length ? upTo[0].lsn - 1 : null;
  let q;
  let leftTitle, rightTitle;
  if (mode === 'diff') {
    if (!ctx.params.get('as_of')) {
      q = `diff ${word(path)} --run ${word(run)}`;
      leftTitle = 'base';
      rightTitle = 'now';
    } else if (basePoint !== null) {
      q = `diff ${word(path)} --run ${word(run)} @${basePoint} @${asOf}`;
      leftTitle = `base (LSN ${basePoint})`;
      rightTitle = `as of LSN ${asOf}`;
    }
  } else {
    // Between two points: default the file's last version up to as-of against the one before.
    const b = Number(ctx.params.get('b')) || (upTo.length ? upTo[upTo.length - 1].lsn : asOf);
    const before = versions.filter((v) => v.lsn < b);
    const a = Number(ctx.params.get('a')) || (before.length ? before[before.length - 1].lsn : Math.max(0, b - 1));
    const pick = (name, value, label) => {
      const sel = h('select', { 'data-testid': 'diff-' + name, onchange: () => ctx.setParams({ [name]: sel.value }) }, [
        ...versions.map((v) => h('option', { value: v.lsn, selected: v.lsn === value }, `LSN ${v.lsn} · ${v.type} · ${v.task}${v.base ? ' · base' : ''}`)),
        versions.some((v) => v.lsn === value) ? null : h('option', { value, selected: true }, `LSN ${value}`),
      ]);
      return h('label', {}, [label, ' ', sel]);
    };
    out.append(h('div', { class: 'toolbar' }, [pick('a', a, 'from'), pick('b', b, 'to')]));
    q = `diff ${word(path)} --run ${word(run)} @${a} @${b}`;
    leftTitle = `LSN ${a}`;
    rightTitle = `LSN ${b}`;
  }
  if (!q) {
    out.append(h('p', { class: 'muted' }, `${path} has no version as of LSN ${asOf}.`));
    return;
  }
  const res = await api.query(q);
  if (!ok()) return;
  out.append(h('div', { class: 'query-link small' }, h('a', { href: '#/query?q=' + encodeURIComponent(q) }, q)),
    sideBySide(res.text ?? '', { leftTitle, rightTitle }));
}
