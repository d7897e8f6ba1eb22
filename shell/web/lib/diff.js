// A unified diff (git diff text) drawn side by side: two panes, [data-side=left] (before) and
// [data-side=right] (after), whose lines are aligned row by row (a line missing on one side is
// a blank filler), so one vertical scroll moves both.
import { h } from './dom.js';

// Parses git diff text into rows {kind: 'hunk'|'ctx'|'del'|'add'|'chg'|'note', left, right, ln, rn}.
export function parseUnified(text) {
  const rows = [];
  let dels = [], adds = [];
  let ln = 0, rn = 0, inHunk = false;
  const flush = () => {
    const n = Math.max(dels.length, adds.length);
    for (let i = 0; i < n; i++) {
      const d = dels[i], a = adds[i];
      rows.push({
        kind: d && a ? 'chg' : d ? 'del' : 'add',
        left: d ? d.text : null, ln: d ? d.n : null,
        right: a ? a.text : null, rn: a ? a.n : null,
      });
    }
    dels = [];
    adds = [];
  };
  for (const line of text.split('\n')) {
    const m = line.match(/^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/);
    if (m) {
      flush();
      ln = Number(m[1]);
      rn = Number(m[2]);
      inHunk = true;
      rows.push({ kind: 'hunk', left: line, right: line });
      continue;
    }
    if (!inHunk) {
      if (/^Binary files/.test(line)) rows.push({ kind: 'note', left: line, right: line });
      continue;
    }
    if (line.startsWith('-')) dels.push({ text: line.slice(1), n: ln++ });
    else if (line.startsWith('+')) adds.push({ text: line.slice(1), n: rn++ });
    else if (line.startsWith(' ')) {
      flush();
      rows.push({ kind: 'ctx', left: line.slice(1), right: line.slice(1), ln: ln++, rn: rn++ });
    } else if (line.startsWith('diff --git')) {
      flush();
      inHunk = false;
    }
    // "\ No newline at end of file" and the empty last line: nothing to draw.
  }
  flush();
  return rows;
}

function lineEl(kind, n, text, side) {
  let cls = 'dl ' + kind;
  if (kind === 'chg') cls = 'dl ' + (side === 'left' ? 'del' : 'add');
  if (text === null) cls = 'dl filler';
  return h('div', { class: cls }, [h('span', { class: 'ln' }, n ?? ''), h('span', { class: 'tx' }, text ?? '')]);
}

export function sideBySide(text, { leftTitle = 'before', rightTitle = 'after' } = {}) {
  const rows = parseUnified(text);
  const left = h('div', { class: 'diff-pane', 'data-side': 'left' }, h('div', { class: 'pane-title' }, leftTitle));
  const right = h('div', { class: 'diff-pane', 'data-side': 'right' }, h('div', { class: 'pane-title' }, rightTitle));
  for (const r of rows) {
    if (r.kind === 'hunk' || r.kind === 'note') {
      left.append(h('div', { class: 'dl hunk' }, r.left));
      right.append(h('div', { class: 'dl hunk' }, r.right));
      continue;
    }
    left.append(lineEl(r.kind, r.ln, r.left, 'left'));
    right.append(lineEl(r.kind, r.rn, r.right, 'right'));
  }
  const el = h('div', { class: 'diff', 'data-testid': 'diff' }, [left, right]);
  if (!rows.length) el.append(h('p', { class: 'muted diff-empty' }, 'No change between these points.'));
  return el;
}
