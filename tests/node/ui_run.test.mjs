// One run in the web view of `tink serve` (issue 18, docs/web.md), in headless Chromium against
// a daemon on the demo store (lib/ui_fixture.mjs; ui.test.mjs has the rest): the failed run's
// timeline (failures, `why` chains, event JSON, marks), the as-of scrubber on the timeline and
// the files page (tree, content, blame, side-by-side diff), the git bundle download, and the
// memory graph with a retracted edge. Every expected value comes from `tink shell -c` on the
// same store. TINK_UPDATE_DOCS_SCREENSHOT=1 also writes docs/web-timeline.png (1280x800).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { readAllFiles, tinkCli } from './lib/tink.mjs';
import {
  loggedInPage, open, repoRoot, screenshot, until, VIEWPORT, waitReady,
} from './lib/browser.mjs';
import { demoDaemon, q, rows, run, RUN_FAILED, scrub, treePaths } from './lib/ui_fixture.mjs';

describe(`web view: the run ${RUN_FAILED}`, { timeout: 120000 }, () => {
  const fx = demoDaemon('tink-ui-run-');

  test(`the timeline of ${RUN_FAILED}: failures, why chains, event JSON`, { timeout: 40000 },
       async () => {
    const failed = await rows(fx.store, `tasks | where run == ${q(RUN_FAILED)} and ` +
                              "state == 'failed'" +
                              ' | sort finished_lsn | select id');
    assert.ok(failed.length > 0);
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash(`/run/${RUN_FAILED}`));
      // The failures list names every failed task.
      const listed = await page.$$eval('[data-testid=failures] [data-failed-task]',
                                       (els) => els.map((e) => e.dataset.failedTask));
      assert.deepEqual([...new Set(listed)].sort(), failed.map((r) => r.id).sort());

      // The Gantt's task rows carry the tasks' states (as the scheduler has them now).
      const tasks = await rows(fx.store,
                               `tasks | where run == ${q(RUN_FAILED)} | select id, state`);
      const stateOf = new Map(tasks.map((t) => [t.id, t.state]));
      const bars = await page.$$eval('svg[data-testid=gantt] [data-task]', (els) => els.map(
        (e) => [e.dataset.task, e.dataset.state]));
      assert.ok(bars.length > 0);
      for (const [id, state] of bars) assert.equal(state, stateOf.get(id), `Gantt row ${id}`);
      assert.ok(bars.some(([, state]) => state === 'failed'), 'no failed task in the Gantt');

      // Clicking a failure shows its why chain: the steps of `why ID`, in order. The first
      // and the last failure of the run.
      for (const id of new Set([failed[0].id, failed[failed.length - 1].id])) {
        const want = await rows(fx.store, `why ${q(id)}`);
        assert.ok(want.length > 0, `why ${id}`);
        await page.click(`[data-testid=failures] [data-failed-task="${id}"]`);
        const wantSteps = want.map((r) => [String(r.lsn), r.type]);
        await until(async () => {
          const steps = await page.$$eval('[data-testid=why] [data-why-step]', (els) => els.map(
            (e) => [e.dataset.lsn, e.dataset.type]));
          return JSON.stringify(steps) === JSON.stringify(wantSteps) || steps;
        }, `why chain of ${id} = ${JSON.stringify(wantSteps)}`);
      }
      if (process.env.TINK_UPDATE_DOCS_SCREENSHOT === '1') {
        // The README's picture: the failure docs/shell.md explains (`why .../100`), its chain.
        const shown = failed.some((r) => r.id === `${RUN_FAILED}/100`) ? `${RUN_FAILED}/100`
          : failed[0].id;
        await page.click(`[data-testid=failures] [data-failed-task="${shown}"]`);
        const steps = (await rows(fx.store, `why ${q(shown)}`)).length;
        await page.waitForFunction((n) => document.querySelectorAll(
          '[data-testid=why] [data-why-step]').length === n, steps);
        await page.setViewportSize(VIEWPORT);
        await page.screenshot({ path: path.join(repoRoot, 'docs/web-timeline.png') });
      }

      // A why step opens its event's JSON: the event of `events | where lsn == N`.
      const step = page.locator('[data-testid=why] [data-why-step]').last();
      const lsn = Number(await step.getAttribute('data-lsn'));
      await step.click();
      const [event] = await rows(fx.store, `events | where lsn == ${lsn}`);
      await until(async () => {
        const text = await page.textContent('pre[data-testid=event-json]');
        return isDeepStrictEqual(JSON.parse(text), event) || text;
      }, `event JSON of LSN ${lsn} = ${JSON.stringify(event).slice(0, 300)}`);
      // Escape closes the event panel (it lies over the chart's right end).
      await page.keyboard.press('Escape');
      await page.waitForSelector('pre[data-testid=event-json]', { state: 'hidden' });

      // Every mark drawn is an event of the run, on its task's row.
      const runEvents = new Map((await rows(fx.store, `events | where run == ${q(RUN_FAILED)} | ` +
                                            'select lsn, type, data.task as task'))
        .map((e) => [e.lsn, e]));
      const marks = await page.$$eval('svg[data-testid=gantt] [data-mark-lsn]', (els) => els.map(
        (e) => ({ lsn: Number(e.dataset.markLsn),
                  task: e.closest('[data-task]')?.dataset.task ?? null })));
      assert.ok(marks.length > 0, 'no mark on the Gantt');
      for (const m of marks) {
        const e = runEvents.get(m.lsn);
        assert.ok(e, `mark at LSN ${m.lsn} is no event of ${RUN_FAILED}`);
        if (m.task !== null) assert.equal(m.task, `${RUN_FAILED}/${e.task}`, `mark ${m.lsn}`);
      }

      // So does a mark on the Gantt.
      const mark = page.locator('svg[data-testid=gantt] [data-mark-lsn]').first();
      const markLsn = Number(await mark.getAttribute('data-mark-lsn'));
      await mark.click();
      const [markEvent] = await rows(fx.store, `events | where lsn == ${markLsn}`);
      assert.equal(markEvent.run, RUN_FAILED);
      await until(async () => {
        const text = await page.textContent('pre[data-testid=event-json]');
        return isDeepStrictEqual(JSON.parse(text), markEvent) || text;
      }, `event JSON of the mark at LSN ${markLsn}`);
      watch.assertClean('timeline page');
    } finally {
      await context.close();
    }
  });

  test('the timeline scrubber shows the tasks as of its position', { timeout: 30000 }, async () => {
    // A point inside the run where some task was still open that has ended by now.
    const [span] = await rows(fx.store, `runs | where run == ${q(RUN_FAILED)} | ` +
                              'select started_lsn, ' +
                              'finished_lsn');
    const mid = Math.floor((span.started_lsn + span.finished_lsn) / 2);
    const then = await rows(fx.store, `tasks as of ${mid} | where run == ${q(RUN_FAILED)}` +
                            ' | select id, state');
    const now = await rows(fx.store, `tasks | where run == ${q(RUN_FAILED)} | select id, state`);
    assert.notDeepEqual(then, now);
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash(`/run/${RUN_FAILED}`));
      const scrubber = page.locator('input[type=range][data-testid=scrubber]');
      assert.equal(Number(await scrubber.getAttribute('min')) <= mid, true);
      assert.equal(Number(await scrubber.getAttribute('max')) >= mid, true);
      await scrub(page, mid);
      const stateThen = new Map(then.map((t) => [t.id, t.state]));
      await until(async () => {
        if (!(await page.textContent('[data-testid=as-of]')).includes(String(mid))) return false;
        if (!(await page.$('body[data-ready="1"]'))) return false;
        const bars = await page.$$eval('svg[data-testid=gantt] [data-task]', (els) => els.map(
          (e) => [e.dataset.task, e.dataset.state]));
        return (bars.length > 0 && bars.every(([id, state]) => stateThen.get(id) === state)) ||
          bars.filter(([id, state]) => stateThen.get(id) !== state);
      }, `Gantt as of ${mid}`);
      assert.match(page.url(), new RegExp(`as_of=${mid}\\b`));

      // `[` steps it one LSN back (docs/web.md, Keys).
      const prev = mid - 1;
      const statesPrev = new Map((await rows(fx.store, `tasks as of ${prev} | where run == ` +
                                             `${q(RUN_FAILED)} | select id, state`))
        .map((t) => [t.id, t.state]));
      await page.locator('body').press('[');
      await until(async () => {
        const asOf = await page.textContent('[data-testid=as-of]');
        if (!asOf.includes(String(prev)) || !(await page.$('body[data-ready="1"]'))) return asOf;
        const bars = await page.$$eval('svg[data-testid=gantt] [data-task]', (els) => els.map(
          (e) => [e.dataset.task, e.dataset.state]));
        return (bars.length > 0 && bars.every(([id, state]) => statesPrev.get(id) === state)) ||
          bars.filter(([id, state]) => statesPrev.get(id) !== state);
      }, `Gantt as of ${prev} after [`);

      // The point holds for the run's other tabs: the files tab shows the canvas as of it.
      const filesPrev = (await rows(fx.store, `files as of ${prev} | where run == ` +
                                    `${q(RUN_FAILED)}` +
                                    ' | select path')).map((r) => r.path).sort();
      await page.click('a[data-testid=tab-files]');
      await until(async () => {
        const tree = await treePaths(page);
        const onFiles = /\/files\b/.test(page.url());
        return (onFiles && JSON.stringify(tree) === JSON.stringify(filesPrev)) ||
          { url: page.url(), tree };
      }, `files tab as of ${prev} = ${JSON.stringify(filesPrev)}`);
      assert.match(page.url(), new RegExp(`as_of=${prev}\\b`));
      assert.match(await page.textContent('[data-testid=as-of]'), new RegExp(`\\b${prev}\\b`));
      watch.assertClean('timeline scrubber');
    } finally {
      await context.close();
    }
  });

  test('the files page follows the scrubber: tree, content, blame', { timeout: 40000 },
       async () => {
    // The first file event of the run that changes which paths exist: the tree just before it
    // and at it differ.
    const fileEvents = await rows(fx.store, `events | where run == ${q(RUN_FAILED)} and type =~ ` +
                                  "'^file\\\\.' | select lsn, type");
    const pathsAt = async (lsn) => (await rows(
      fx.store, `files as of ${lsn} | where run == ${q(RUN_FAILED)} | select path`))
      .map((r) => r.path).sort();
    let before;
    let at;
    let lsnBefore;
    let lsnAt;
    for (const e of fileEvents) {
      const a = await pathsAt(e.lsn - 1);
      const b = await pathsAt(e.lsn);
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        [before, at, lsnBefore, lsnAt] = [a, b, e.lsn - 1, e.lsn];
        break;
      }
    }
    assert.ok(lsnAt, `no file event of ${RUN_FAILED} changes its tree`);
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash(`/run/${RUN_FAILED}/files?as_of=${lsnBefore}`));
      assert.deepEqual(await treePaths(page), before);
      assert.match(await page.textContent('[data-testid=as-of]'), new RegExp(`\\b${lsnBefore}\\b`));

      // The real scrubber, moved to the event: the tree becomes the one as of it.
      await scrub(page, lsnAt);
      await until(async () => {
        const tree = await treePaths(page);
        return JSON.stringify(tree) === JSON.stringify(at) || tree;
      }, `file tree as of ${lsnAt} = ${JSON.stringify(at)}`);
      await until(async () => (await page.textContent('[data-testid=as-of]'))
        .includes(String(lsnAt)), `as-of shows ${lsnAt}`);
      await waitReady(page);

      // A file that exists at that point: its content is the canvas's, its blame has one
      // line per blame row, each linked to the LSN that wrote it.
      const file = at.find((p) => !before.includes(p)) ?? at[0];
      await page.click(`[data-testid=file-tree] [data-path="${file}"]`);
      const content = await fetch(`${fx.server.url}/v1/runs/${RUN_FAILED}/file?path=` +
                                  `${encodeURIComponent(file)}&as_of=${lsnAt}`,
                                  { headers: fx.server.authHeaders() });
      assert.equal(content.status, 200);
      const text = await content.text();
      await until(async () => (await page.textContent('[data-testid=file-content]')).includes(
        text.split('\n').find((l) => l.trim() !== '') ?? ''), `content of ${file}`);
      const blame = await rows(fx.store, `blame ${q(file)} --run ${q(RUN_FAILED)} as of ${lsnAt}`);
      assert.ok(blame.length > 0);
      await until(async () => {
        const lsns = await page.$$eval('[data-testid=blame] a[data-lsn]',
                                       (as) => as.map((a) => Number(a.dataset.lsn)));
        return JSON.stringify(lsns) === JSON.stringify(blame.map((r) => r.lsn)) || lsns;
      }, `blame of ${file} as of ${lsnAt}`);
      await screenshot(page, 'files-scrubbed');

      // The diff against the base (now), side by side: the lines `diff P --run R` adds are on
      // the right, the lines it removes on the left.
      const diff = await tinkCli(['shell', '--store', fx.store, '-c',
                                  `diff ${q(file)} --run ${q(RUN_FAILED)}`]);
      assert.equal(diff.code, 0, diff.stderr);
      const changed = (sign) => diff.stdout.split('\n')
        .filter((l) => l.startsWith(sign) && !l.startsWith(sign.repeat(3)))
        .map((l) => l.slice(1)).filter((l) => l.trim() !== '');
      const [added, removed] = [changed('+'), changed('-')];
      assert.ok(added.length + removed.length > 0, diff.stdout);
      await open(page, fx.hash(`/run/${RUN_FAILED}/files?path=${encodeURIComponent(file)}`));
      await page.click('a[data-view=diff]');
      await until(async () => {
        const left = await page.textContent('[data-testid=diff] [data-side=left]');
        const right = await page.textContent('[data-testid=diff] [data-side=right]');
        const missing = [...added.filter((l) => !right.includes(l)).map((l) => `right: ${l}`),
                         ...removed.filter((l) => !left.includes(l)).map((l) => `left: ${l}`)];
        return missing.length === 0 || missing;
      }, `side-by-side diff of ${file}`);
      await screenshot(page, 'files-diff');
      watch.assertClean('files page');
    } finally {
      await context.close();
    }
  });

  test('the git bundle download clones to the canvas as tink canvas export writes it',
       { timeout: 30000 }, async () => {
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash(`/run/${RUN_FAILED}/files`));
      const link = page.locator('a[data-testid=download-bundle]');
      assert.equal(new URL(await link.getAttribute('href'), fx.server.url).pathname,
                   `/v1/runs/${RUN_FAILED}/bundle`);
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const bundle = path.join(fx.tmp.dir, `${RUN_FAILED}.bundle`);
      await download.saveAs(bundle);
      const clone = path.join(fx.tmp.dir, 'clone');
      const cloned = await run('git', ['clone', '-q', bundle, clone]);
      assert.equal(cloned.code, 0, cloned.stderr);
      const exported = path.join(fx.tmp.dir, 'export');
      const out = await tinkCli(['canvas', 'export', '--store', fx.store, '--run', RUN_FAILED,
                                 exported]);
      assert.equal(out.code, 0, out.stderr);
      const files = async (dir, skip) => (await readAllFiles(dir))
        .filter(([rel]) => !skip(rel)).map(([rel, bytes]) => [rel, bytes.toString('base64')])
        .sort(([a], [b]) => (a < b ? -1 : 1));
      const fromBundle = await files(clone, (rel) => rel === '.git' || rel.startsWith('.git/'));
      const fromExport = await files(exported, (rel) => rel === '.tink-canvas');
      assert.ok(fromExport.length > 0);
      assert.deepEqual(fromBundle.map(([rel]) => rel), fromExport.map(([rel]) => rel));
      assert.deepEqual(fromBundle, fromExport);
      watch.assertClean('bundle download');
    } finally {
      await context.close();
    }
  });

  test(`the memory page draws the neighbourhood of neighbors NODE depth 2`, { timeout: 30000 },
       async () => {
    const node = `run:${RUN_FAILED}`;
    const want = await rows(fx.store, `neighbors ${q(node)} depth 2`);
    assert.ok(want.length > 0);
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash(`/run/${RUN_FAILED}/memory?node=${encodeURIComponent(node)}`));
      const drawn = await page.$$eval('svg[data-testid=graph] [data-node]',
                                      (els) => els.map((e) => e.dataset.node));
      assert.deepEqual([...new Set(drawn)].sort(), [node, ...want.map((r) => r.id)].sort());
      // Each node's edge from the breadth-first walk is drawn with its relation as its label.
      const edges = new Map(await page.$$eval('svg[data-testid=graph] [data-edge]', (els) => els
        .map((e) => [e.dataset.edge, e.textContent])));
      for (const r of want) {
        assert.ok(edges.has(r.via_edge), `edge ${r.via_edge} not drawn`);
        assert.ok(edges.get(r.via_edge).includes(r.via_rel), `edge ${r.via_edge}'s label`);
      }
      watch.assertClean('memory page');
    } finally {
      await context.close();
    }
  });

  test('the memory page shows a retracted edge dashed, and live before its retraction',
       { timeout: 30000 }, async () => {
    // A run of its own (appended through the daemon): two nodes, an edge, its retraction.
    const name = `ui-memory-${process.pid}-${Date.now()}`;
    const [a, b, edge] = [`note:${name}/a`, `note:${name}/b`, `${name}-edge`];
    const envelopes = [
      { stream: `run/${name}`, type: 'run.started', run: name, data: { name: 'memory test' } },
      { stream: `memory/${name}`, type: 'memory.node', run: name,
        data: { id: a, labels: ['Note'], props: { text: 'a' } } },
      { stream: `memory/${name}`, type: 'memory.node', run: name,
        data: { id: b, labels: ['Note'], props: { text: 'b' } } },
      { stream: `memory/${name}`, type: 'memory.edge', run: name,
        data: { id: edge, src: a, rel: 'SUPPORTS', dst: b } },
      { stream: `memory/${name}`, type: 'memory.retract', run: name,
        data: { target: edge, kind: 'edge', reason: 'ui test' } },
    ];
    const res = await fetch(`${fx.server.url}/v1/events`, {
      method: 'POST', headers: fx.server.authHeaders({ 'Content-Type': 'application/x-ndjson' }),
      body: envelopes.map((e) => JSON.stringify(e)).join('\n'),
    });
    assert.equal(res.status, 200);
    const { lsns } = await res.json();
    const beforeRetract = lsns[3];
    // The shell agrees, once the daemon's projections have the batch: the edge is live before
    // the retraction, gone after it.
    await until(async () => {
      const then = await rows(fx.store, `edges as of ${beforeRetract} | where id == ${q(edge)}`);
      const now = await rows(fx.store, `edges | where id == ${q(edge)}`);
      return (then.length === 1 && now.length === 0) || { then, now };
    }, `edge ${edge} live as of ${beforeRetract} and retracted now`);
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      const edgeSel = `svg[data-testid=graph] [data-edge="${edge}"]`;
      await open(page, fx.hash(`/run/${name}/memory?node=${encodeURIComponent(a)}`));
      await page.waitForSelector(`${edgeSel}[data-retracted="true"]`, { state: 'attached' });
      assert.match(await page.textContent(edgeSel), /SUPPORTS/);
      await screenshot(page, 'memory-retracted');
      await open(page, fx.hash(`/run/${name}/memory?node=${encodeURIComponent(a)}` +
                            `&as_of=${beforeRetract}`));
      await page.waitForSelector(edgeSel, { state: 'attached' });
      assert.equal(await page.getAttribute(edgeSel, 'data-retracted'), null);
      watch.assertClean('memory page, retraction');
    } finally {
      await context.close();
    }
  });
});
