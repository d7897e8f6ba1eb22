// The web view of `tink serve` (issue 18, docs/web.md) in a real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core, tests/node/lib/browser.mjs), against a daemon on
// the demo store (scripts/demo-imports) in a temp dir. What each page shows is checked against
// `tink shell -c '<the query>' --format json` on the same store, never against numbers written
// here: the login and its cookie, every page loading with no console error and no failed
// request (a screenshot of each in $TINK_ARTIFACT_DIR/ui/), the runs table, the failed run's
// failures and `why` chains, the files page as of two scrubber positions, the query page, live
// updates through the event stream, and the git bundle download.
// TINK_UPDATE_DOCS_SCREENSHOT=1 also writes docs/web-timeline.png (the README's screenshot).
//
// The DOM the pages keep for these tests (shell/web/):
//   every page   body[data-ready="1"] once loaded (cleared while loading); [data-testid=error]
//                shows API errors; a[data-testid=open-as-query]; nav-runs/-query/-compare links;
//                [data-testid=logout]
//   login        form[action="/login"] with input#token[name=token]; "wrong token" after ?error=1
//   runs         table[data-testid=runs-table] tr[data-run=RUN] td[data-col=FIELD];
//                th[data-sort=FIELD]; input[data-testid=runs-filter]; [data-testid=live] = "live"
//   run          input[type=range][data-testid=scrubber]; [data-testid=as-of] (contains the LSN)
//   timeline     svg[data-testid=gantt] [data-task=RUN/TASK][data-state]; [data-mark-lsn=N];
//                [data-testid=failures] [data-failed-task=RUN/TASK]; [data-testid=why]
//                [data-why-step][data-lsn][data-type]; pre[data-testid=event-json]
//   files        [data-testid=file-tree] [data-path=P]; [data-testid=file-content];
//                [data-testid=blame] a[data-lsn] per line; a[data-testid=download-bundle];
//                the file's views a[data-view=content|diff|range]; [data-testid=diff]
//                [data-side=left|right]
//   event panel  pre[data-testid=event-json]; Escape closes it
//   memory       svg[data-testid=graph] [data-node=ID]
//   query        textarea[data-testid=query-input], button[data-testid=query-run],
//                table[data-testid=query-result] (thead th = columns; td: a string as is, null
//                empty, else compact JSON), [data-testid=query-error], [data-testid=query-count]
//   compare      [data-testid=compare]
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { readAllFiles, tempDir, tinkCli, TinkServer } from './lib/tink.mjs';
import {
  artifactDir, launchBrowser, loggedInPage, login, newContext, open, repoRoot, screenshot,
  until, VIEWPORT, waitReady, watchPage,
} from './lib/browser.mjs';

const RUN_FAILED = 'ponylang__ponyc-4588';
const RUN_OTHER = 'ponylang__ponyc-4593';

// The demo store: one `tink import` per line of scripts/demo-imports (paths from the repo root).
async function buildDemoStore(store) {
  const lines = (await readFile(path.join(repoRoot, 'scripts/demo-imports'), 'utf8')).split('\n');
  for (const line of lines) {
    const args = line.trim().split(/\s+/).filter((a) => a !== '');
    if (args.length === 0 || args[0].startsWith('#')) continue;
    const resolved = args.map((a) => (a.startsWith('tests/') ? path.join(repoRoot, a) : a));
    const out = await tinkCli(['import', '--store', store, ...resolved]);
    if (out.code !== 0) throw new Error(`tink import ${line}: exit ${out.code}: ${out.stderr}`);
  }
}

// `tink shell --store STORE -c STATEMENT --format json`, opened read-only beside the daemon:
// the rows.
async function rows(store, statement) {
  const out = await tinkCli(['shell', '--store', store, '-c', statement, '--format', 'json']);
  assert.equal(out.code, 0, `tink shell -c ${statement}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

// A value quoted for the query language.
const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

// A query result cell as the query page renders it (docs/web.md): a string as is, null empty,
// anything else as compact JSON.
const cellText = (v) => (v === null || v === undefined ? '' : typeof v === 'string' ? v
                         : JSON.stringify(v));

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30000, maxBuffer: 64 * 1024 * 1024, ...opts },
             (error, stdout, stderr) => resolve({ code: error ? (error.code ?? -1) : 0, stdout,
                                                  stderr }));
  });
}

// The [data-path] entries of the files page's tree, sorted.
const treePaths = (page) => page.$$eval('[data-testid=file-tree] [data-path]',
                                        (els) => els.map((e) => e.dataset.path).sort());

describe('web view (tink serve /)', { timeout: 120000 }, () => {
  let tmp;
  let store;
  let server;
  let browser;
  const hash = (h) => `${server.url}/#${h}`;

  before(async () => {
    tmp = await tempDir('tink-ui-');
    store = path.join(tmp.dir, 'demo.store');
    await buildDemoStore(store);
    // TINK_WEB_DIR (development: the pages read from disk) passes through from this process's
    // environment; ctest does not set it, so the test runs on the assets compiled in.
    server = await TinkServer.start({ store });
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) assert.equal(await server.stop(), 0, server.stderr);
    if (tmp) await tmp.cleanup();
  });

  test('unauthenticated access is refused; the login form sets an HttpOnly SameSite=Strict cookie',
       { timeout: 30000 }, async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 303);
    assert.equal(new URL(root.headers.get('location'), server.url).pathname, '/login');
    const runs = await fetch(`${server.url}/v1/runs`);
    assert.equal(runs.status, 401);
    assert.equal((await runs.json()).error.code, 'unauthorized');
    const query = await fetch(`${server.url}/v1/query`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: 'runs | count', format: 'json' }),
    });
    assert.equal(query.status, 401);
    // The pages' static files hold no data and need no login.
    const script = await fetch(`${server.url}/ui/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /javascript/);

    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const watch = watchPage(page, server.url);
      await page.goto(`${server.url}/`);
      assert.equal(new URL(page.url()).pathname, '/login');
      await page.waitForSelector('input#token[type=password][name=token]');
      assert.equal(await page.getByText('wrong token').isVisible(), false);

      // A wrong token: back on the login page, saying so, and no cookie.
      await login(page, server, `${server.token}x`);
      const wrong = new URL(page.url());
      assert.equal(wrong.pathname, '/login');
      assert.equal(wrong.searchParams.get('error'), '1');
      await page.getByText('wrong token').waitFor({ state: 'visible' });
      await screenshot(page, 'login');
      assert.deepEqual((await context.cookies()).filter((c) => c.name === 'tink_token'), []);

      // The right token: on /, the app loads, the cookie is HttpOnly and SameSite=Strict.
      await login(page, server);
      assert.equal(new URL(page.url()).pathname, '/');
      await waitReady(page);
      const cookie = (await context.cookies()).find((c) => c.name === 'tink_token');
      assert.ok(cookie, 'no tink_token cookie after logging in');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.path, '/');
      assert.equal(await page.evaluate(() => document.cookie.includes('tink_token')), false);
      // The cookie authenticates the page's own requests.
      const status = await page.evaluate(async () => (await fetch('/v1/runs')).status);
      assert.equal(status, 200);

      // Log out: the cookie is gone and / is the login page again.
      await Promise.all([page.waitForURL((u) => u.pathname === '/login'),
                         page.click('[data-testid=logout]')]);
      assert.deepEqual((await context.cookies()).filter((c) => c.name === 'tink_token'), []);
      watch.expect(({ url, status }) => status === 401 && new URL(url).pathname === '/v1/runs');
      const after = await page.evaluate(async () => (await fetch('/v1/runs')).status);
      assert.equal(after, 401);
      watch.assertClean('login and logout');
    } finally {
      await context.close();
    }
  });

  test('a wrong tink_token cookie is refused, and / leads to the login form', async () => {
    // A cookie with a wrong token (e.g. one that outlived a change of the daemon's token) is no
    // login either: / still leads to the login form, where a browser can get a new cookie.
    const forged = { Cookie: `tink_token=${server.token}x` };
    const forgedRoot = await fetch(`${server.url}/`, { redirect: 'manual', headers: forged });
    assert.equal(forgedRoot.status, 303, `GET / with a wrong tink_token cookie: ${forgedRoot.status} ` +
                 `${await forgedRoot.text()} (a stale cookie must lead to the login form)`);
    assert.equal(new URL(forgedRoot.headers.get('location'), server.url).pathname, '/login');
    const forgedRuns = await fetch(`${server.url}/v1/runs`, { headers: forged });
    assert.ok([401, 403].includes(forgedRuns.status), `forged cookie: ${forgedRuns.status}`);
  });

  // Every page: loads (body[data-ready="1"]) with its main element, no error shown, nothing
  // wrong in the console or the network, an "open as query" link; a screenshot of it.
  const PAGES = [
    ['runs', () => '/runs', 'table[data-testid=runs-table] tr[data-run]'],
    ['timeline', () => `/run/${RUN_FAILED}`, 'svg[data-testid=gantt] [data-task]'],
    ['files', () => `/run/${RUN_FAILED}/files`, '[data-testid=file-tree] [data-path]'],
    ['memory', () => `/run/${RUN_FAILED}/memory`, 'svg[data-testid=graph] [data-node]'],
    ['query', () => `/query?q=${encodeURIComponent('runs | select run, status, tasks')}`,
     'table[data-testid=query-result] tbody tr'],
    ['compare', () => `/compare?a=${RUN_FAILED}&b=${RUN_OTHER}`, '[data-testid=compare]'],
  ];
  for (const [name, route, selector] of PAGES) {
    test(`page ${name} loads cleanly`, { timeout: 30000 }, async () => {
      const { context, page, watch } = await loggedInPage(browser, server);
      try {
        await open(page, hash(route()));
        await page.waitForSelector(selector, { state: 'attached' });
        const shot = await screenshot(page, name);
        const error = page.locator('[data-testid=error]');
        if (await error.count()) {
          assert.equal(await error.first().isVisible(), false,
                       `error shown: ${await error.first().textContent()}`);
        }
        const link = await page.getAttribute('a[data-testid=open-as-query]', 'href');
        assert.match(link ?? '', /#\/query\?q=./, `open-as-query: ${link}`);
        // The query behind the page is one the shell runs.
        const behind = new URLSearchParams(link.slice(link.indexOf('?') + 1)).get('q');
        const ran = await tinkCli(['shell', '--store', store, '-c', behind, '--format', 'json']);
        assert.equal(ran.code, 0, `open as query: ${behind}: ${ran.stderr}`);
        watch.assertClean(`page ${name} (screenshot ${shot})`);
      } finally {
        await context.close();
      }
    });
  }

  test('the runs page lists every run with its status; filter and sort work', { timeout: 30000 },
       async () => {
    const want = await rows(store, 'runs | select run, status, tasks');
    assert.ok(want.length > 1);
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash('/runs'));
      const table = 'table[data-testid=runs-table]';
      const shown = await page.$$eval(`${table} tr[data-run]`, (trs) => trs.map((tr) => ({
        run: tr.dataset.run,
        status: tr.querySelector('td[data-col="status"]')?.textContent.trim(),
      })));
      assert.deepEqual(shown.map((r) => r.run).sort(), want.map((r) => r.run).sort());
      for (const w of want) {
        assert.equal(shown.find((r) => r.run === w.run).status, w.status, w.run);
      }

      // Sorting by tasks: the column is ordered one way, then the other.
      const tasksColumn = () => page.$$eval(`${table} tr[data-run]`, (trs) => trs
        .filter((tr) => tr.offsetParent !== null)
        .map((tr) => Number(tr.querySelector('td[data-col="tasks"]').textContent.trim())));
      const sorted = (xs, dir) => xs.every((x, i) => i === 0 || dir * (x - xs[i - 1]) >= 0);
      // (The demo store's runs do not all have the same number of tasks, so the two orders
      // differ.)
      assert.ok(new Set(want.map((r) => r.tasks)).size > 1);
      await page.click(`${table} th[data-sort="tasks"]`);
      let first;
      await until(async () => {
        first = await tasksColumn();
        return sorted(first, 1) || sorted(first, -1) || first;
      }, 'runs sorted by tasks');
      const dir = sorted(first, 1) ? 1 : -1;
      await page.click(`${table} th[data-sort="tasks"]`);
      await until(async () => {
        const xs = await tasksColumn();
        return sorted(xs, -dir) || xs;
      }, `runs sorted by tasks, ${dir > 0 ? 'descending' : 'ascending'} after a second click`);
      assert.deepEqual([...(await tasksColumn())].sort((a, b) => a - b),
                       want.map((r) => r.tasks).sort((a, b) => a - b));

      // The filter: one run's full name leaves that run alone.
      const only = want.find((r) => r.run === 'marshmallow-code__marshmallow-1867') ?? want[0];
      await page.fill('input[data-testid=runs-filter]', only.run);
      await until(async () => {
        const visible = await page.$$eval(`${table} tr[data-run]`, (trs) => trs
          .filter((tr) => tr.offsetParent !== null).map((tr) => tr.dataset.run));
        return visible.length === 1 && visible[0] === only.run;
      }, `filter ${only.run}`);
      watch.assertClean('runs page');
    } finally {
      await context.close();
    }
  });

  test(`the timeline of ${RUN_FAILED}: failures, why chains, event JSON`, { timeout: 40000 },
       async () => {
    const failed = await rows(store, `tasks | where run == ${q(RUN_FAILED)} and state == 'failed'` +
                              ' | sort finished_lsn | select id');
    assert.ok(failed.length > 0);
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash(`/run/${RUN_FAILED}`));
      // The failures list names every failed task.
      const listed = await page.$$eval('[data-testid=failures] [data-failed-task]',
                                       (els) => els.map((e) => e.dataset.failedTask));
      assert.deepEqual([...new Set(listed)].sort(), failed.map((r) => r.id).sort());

      // The Gantt's task rows carry the tasks' states (as the scheduler has them now).
      const tasks = await rows(store, `tasks | where run == ${q(RUN_FAILED)} | select id, state`);
      const stateOf = new Map(tasks.map((t) => [t.id, t.state]));
      const bars = await page.$$eval('svg[data-testid=gantt] [data-task]', (els) => els.map(
        (e) => [e.dataset.task, e.dataset.state]));
      assert.ok(bars.length > 0);
      for (const [id, state] of bars) assert.equal(state, stateOf.get(id), `Gantt row ${id}`);
      assert.ok(bars.some(([, state]) => state === 'failed'), 'no failed task in the Gantt');

      // Clicking a failure shows its why chain: the steps of `why ID`, in order. The first
      // and the last failure of the run.
      for (const id of new Set([failed[0].id, failed[failed.length - 1].id])) {
        const want = await rows(store, `why ${q(id)}`);
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
        const steps = (await rows(store, `why ${q(shown)}`)).length;
        await page.waitForFunction((n) => document.querySelectorAll(
          '[data-testid=why] [data-why-step]').length === n, steps);
        await page.setViewportSize(VIEWPORT);
        await page.screenshot({ path: path.join(repoRoot, 'docs/web-timeline.png') });
      }

      // A why step opens its event's JSON: the event of `events | where lsn == N`.
      const step = page.locator('[data-testid=why] [data-why-step]').last();
      const lsn = Number(await step.getAttribute('data-lsn'));
      await step.click();
      const [event] = await rows(store, `events | where lsn == ${lsn}`);
      await until(async () => {
        const text = await page.textContent('pre[data-testid=event-json]');
        return isDeepStrictEqual(JSON.parse(text), event) || text;
      }, `event JSON of LSN ${lsn} = ${JSON.stringify(event).slice(0, 300)}`);
      // Escape closes the event panel (it lies over the chart's right end).
      await page.keyboard.press('Escape');
      await page.waitForSelector('pre[data-testid=event-json]', { state: 'hidden' });

      // Every mark drawn is an event of the run, on its task's row.
      const runEvents = new Map((await rows(store, `events | where run == ${q(RUN_FAILED)} | ` +
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
      const [markEvent] = await rows(store, `events | where lsn == ${markLsn}`);
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
    const [span] = await rows(store, `runs | where run == ${q(RUN_FAILED)} | select started_lsn, ` +
                              'finished_lsn');
    const mid = Math.floor((span.started_lsn + span.finished_lsn) / 2);
    const then = await rows(store, `tasks as of ${mid} | where run == ${q(RUN_FAILED)}` +
                            ' | select id, state');
    const now = await rows(store, `tasks | where run == ${q(RUN_FAILED)} | select id, state`);
    assert.notDeepEqual(then, now);
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash(`/run/${RUN_FAILED}`));
      const scrubber = page.locator('input[type=range][data-testid=scrubber]');
      assert.equal(Number(await scrubber.getAttribute('min')) <= mid, true);
      assert.equal(Number(await scrubber.getAttribute('max')) >= mid, true);
      await scrubber.evaluate((el, v) => {
        el.value = String(v);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }, mid);
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
      const statesPrev = new Map((await rows(store, `tasks as of ${prev} | where run == ` +
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
      const filesPrev = (await rows(store, `files as of ${prev} | where run == ${q(RUN_FAILED)}` +
                                    ' | select path')).map((r) => r.path).sort();
      await page.click('a[data-testid=tab-files]');
      await until(async () => {
        const tree = await treePaths(page);
        return (/\/files\b/.test(page.url()) && JSON.stringify(tree) === JSON.stringify(filesPrev)) ||
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
    const fileEvents = await rows(store, `events | where run == ${q(RUN_FAILED)} and type =~ ` +
                                  "'^file\\\\.' | select lsn, type");
    const pathsAt = async (lsn) => (await rows(
      store, `files as of ${lsn} | where run == ${q(RUN_FAILED)} | select path`))
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
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash(`/run/${RUN_FAILED}/files?as_of=${lsnBefore}`));
      assert.deepEqual(await treePaths(page), before);
      assert.match(await page.textContent('[data-testid=as-of]'), new RegExp(`\\b${lsnBefore}\\b`));

      // The real scrubber, moved to the event: the tree becomes the one as of it.
      const scrubber = page.locator('input[type=range][data-testid=scrubber]');
      await scrubber.evaluate((el, v) => {
        el.value = String(v);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }, lsnAt);
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
      const content = await fetch(`${server.url}/v1/runs/${RUN_FAILED}/file?path=` +
                                  `${encodeURIComponent(file)}&as_of=${lsnAt}`,
                                  { headers: server.authHeaders() });
      assert.equal(content.status, 200);
      const text = await content.text();
      await until(async () => (await page.textContent('[data-testid=file-content]')).includes(
        text.split('\n').find((l) => l.trim() !== '') ?? ''), `content of ${file}`);
      const blame = await rows(store, `blame ${q(file)} --run ${q(RUN_FAILED)} as of ${lsnAt}`);
      assert.ok(blame.length > 0);
      await until(async () => {
        const lsns = await page.$$eval('[data-testid=blame] a[data-lsn]',
                                       (as) => as.map((a) => Number(a.dataset.lsn)));
        return JSON.stringify(lsns) === JSON.stringify(blame.map((r) => r.lsn)) || lsns;
      }, `blame of ${file} as of ${lsnAt}`);
      await screenshot(page, 'files-scrubbed');

      // The diff against the base (now), side by side: the lines `diff P --run R` adds are on
      // the right, the lines it removes on the left.
      const diff = await tinkCli(['shell', '--store', store, '-c',
                                  `diff ${q(file)} --run ${q(RUN_FAILED)}`]);
      assert.equal(diff.code, 0, diff.stderr);
      const changed = (sign) => diff.stdout.split('\n')
        .filter((l) => l.startsWith(sign) && !l.startsWith(sign.repeat(3)))
        .map((l) => l.slice(1)).filter((l) => l.trim() !== '');
      const [added, removed] = [changed('+'), changed('-')];
      assert.ok(added.length + removed.length > 0, diff.stdout);
      await open(page, hash(`/run/${RUN_FAILED}/files?path=${encodeURIComponent(file)}`));
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

  test('the query page shows the rows and the errors of tink shell -c', { timeout: 30000 },
       async () => {
    const statements = [
      // (basic_gui_mode never finished: a null cell.)
      'runs | select run, status, agent, finished, failed, tasks | sort run',
      `events | where run == ${q(RUN_FAILED)} | limit 4`,
      `why ${q(`${RUN_FAILED}/agent`)}`,
    ];
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash('/query'));
      for (const statement of statements) {
        const want = await rows(store, statement);
        assert.ok(want.length > 0, statement);
        const columns = Object.keys(want[0]);
        await page.fill('textarea[data-testid=query-input]', statement);
        await page.click('button[data-testid=query-run]');
        const expectedCells = want.map((r) => columns.map((c) => cellText(r[c])));
        await until(async () => {
          const got = await page.$$eval('table[data-testid=query-result] tbody tr',
                                        (trs) => trs.map((tr) => [...tr.querySelectorAll('td')]
                                          .map((td) => td.textContent)));
          return JSON.stringify(got) === JSON.stringify(expectedCells) || got;
        }, `the cells of ${statement} = ${JSON.stringify(expectedCells).slice(0, 400)}`);
        const heads = await page.$$eval('table[data-testid=query-result] thead th',
                                        (ths) => ths.map((th) => th.textContent.trim()));
        assert.deepEqual(heads, columns, statement);
        assert.match(await page.textContent('[data-testid=query-count]'),
                     new RegExp(`\\b${want.length} rows?\\b`));
      }

      // A bad query: the shell's message, with its position.
      const bad = 'runs | wher failed > 0';
      const out = await tinkCli(['shell', '--store', store, '-c', bad, '--format', 'json']);
      assert.equal(out.code, 2);
      const message = out.stderr.trim().split('\n').pop().match(/error at \d+:\d+: .*/)?.[0];
      assert.ok(message, `tink shell's error: ${out.stderr}`);
      watch.expect(({ url, status }) => status === 400 && new URL(url).pathname === '/v1/query');
      await page.fill('textarea[data-testid=query-input]', bad);
      await page.click('button[data-testid=query-run]');
      await until(async () => (await page.textContent('[data-testid=query-error]'))
        .includes(message), `query error "${message}"`);
      watch.assertClean('query page');
    } finally {
      await context.close();
    }
  });

  test('the runs page is live: a new run appears when its first event is appended',
       { timeout: 30000 }, async () => {
    const name = `ui-live-${process.pid}-${Date.now()}`;
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash('/runs'));
      await until(async () => (await page.textContent('[data-testid=live]')).trim() === 'live',
                  'the live indicator says live');
      assert.equal(await page.$(`tr[data-run="${name}"]`), null);
      const res = await fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: server.authHeaders({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ stream: `run/${name}`, type: 'run.started', run: name,
                               data: { name: 'live test', agent: 'ui-test', model: 'none' } }),
      });
      assert.equal(res.status, 200, await res.text());
      const row = await page.waitForSelector(`table[data-testid=runs-table] tr[data-run="${name}"]`,
                                             { timeout: 15000 });
      let want;
      await until(async () => {
        [want] = await rows(store, `runs | where run == ${q(name)} | select status, agent`);
        return want !== undefined || 'not in runs yet';
      }, `tink shell sees run ${name}`);
      assert.equal((await (await row.$('td[data-col="status"]')).textContent()).trim(),
                   want.status);
      assert.equal((await (await row.$('td[data-col="agent"]')).textContent()).trim(),
                   want.agent);
      watch.assertClean('live runs page');
    } finally {
      await context.close();
    }
  });

  test('the git bundle download clones to the canvas as tink canvas export writes it',
       { timeout: 30000 }, async () => {
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash(`/run/${RUN_FAILED}/files`));
      const link = page.locator('a[data-testid=download-bundle]');
      assert.equal(new URL(await link.getAttribute('href'), server.url).pathname,
                   `/v1/runs/${RUN_FAILED}/bundle`);
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const bundle = path.join(tmp.dir, `${RUN_FAILED}.bundle`);
      await download.saveAs(bundle);
      const clone = path.join(tmp.dir, 'clone');
      const cloned = await run('git', ['clone', '-q', bundle, clone]);
      assert.equal(cloned.code, 0, cloned.stderr);
      const exported = path.join(tmp.dir, 'export');
      const out = await tinkCli(['canvas', 'export', '--store', store, '--run', RUN_FAILED,
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
    const want = await rows(store, `neighbors ${q(node)} depth 2`);
    assert.ok(want.length > 0);
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash(`/run/${RUN_FAILED}/memory?node=${encodeURIComponent(node)}`));
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
    const res = await fetch(`${server.url}/v1/events`, {
      method: 'POST', headers: server.authHeaders({ 'Content-Type': 'application/x-ndjson' }),
      body: envelopes.map((e) => JSON.stringify(e)).join('\n'),
    });
    assert.equal(res.status, 200);
    const { lsns } = await res.json();
    const beforeRetract = lsns[3];
    // The shell agrees, once the daemon's projections have the batch: the edge is live before
    // the retraction, gone after it.
    await until(async () => {
      const then = await rows(store, `edges as of ${beforeRetract} | where id == ${q(edge)}`);
      const now = await rows(store, `edges | where id == ${q(edge)}`);
      return (then.length === 1 && now.length === 0) || { then, now };
    }, `edge ${edge} live as of ${beforeRetract} and retracted now`);
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      const edgeSel = `svg[data-testid=graph] [data-edge="${edge}"]`;
      await open(page, hash(`/run/${name}/memory?node=${encodeURIComponent(a)}`));
      await page.waitForSelector(`${edgeSel}[data-retracted="true"]`, { state: 'attached' });
      assert.match(await page.textContent(edgeSel), /SUPPORTS/);
      await screenshot(page, 'memory-retracted');
      await open(page, hash(`/run/${name}/memory?node=${encodeURIComponent(a)}` +
                            `&as_of=${beforeRetract}`));
      await page.waitForSelector(edgeSel, { state: 'attached' });
      assert.equal(await page.getAttribute(edgeSel, 'data-retracted'), null);
      watch.assertClean('memory page, retraction');
    } finally {
      await context.close();
    }
  });

  test('the compare page marks the first divergence of diff A B', { timeout: 30000 }, async () => {
    const want = await rows(store, `diff ${q(RUN_FAILED)} ${q(RUN_OTHER)}`);
    const first = want.find((r) => r.section === 'first_divergence');
    assert.ok(first, 'diff A B has no first_divergence row');
    const { context, page, watch } = await loggedInPage(browser, server);
    try {
      await open(page, hash(`/compare?a=${RUN_FAILED}&b=${RUN_OTHER}`));
      const text = await page.textContent('[data-testid=compare] [data-testid=divergence]');
      for (const part of [first.item, first.a, first.b]) {
        assert.ok(text.includes(cellText(part)), `divergence "${text}" lacks ${cellText(part)}`);
      }
      // Both runs' values, side by side, for every other row of the comparison.
      const shown = await page.textContent('[data-testid=compare]');
      for (const r of want.filter((w) => w.section !== 'first_divergence').slice(0, 20)) {
        assert.ok(shown.includes(cellText(r.a)) && shown.includes(cellText(r.b)),
                  `${r.section} ${r.item}: ${cellText(r.a)} / ${cellText(r.b)}`);
      }
      watch.assertClean('compare page');
    } finally {
      await context.close();
    }
  });

  test('the screenshots are in the artifact directory', async () => {
    for (const name of ['login', ...PAGES.map(([page]) => page)]) {
      const png = await readFile(path.join(artifactDir(), `${name}.png`));
      assert.equal(png.subarray(1, 4).toString(), 'PNG', name);
    }
  });
});
