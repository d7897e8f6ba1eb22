// The web view of `tink serve` (issue 18, docs/web.md) in a real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core, lib/browser.mjs), against a daemon on the demo
// store in a temp dir (lib/ui_fixture.mjs, which lists the DOM the pages keep for these tests).
// What a page shows is checked against `tink shell -c '<the query>' --format json` on the same
// store, never against numbers written here. This file: the login and its cookie, every page
// loading with no console error, failed request or request leaving the daemon (a screenshot of
// each in $TINK_ARTIFACT_DIR/ui/), the runs table, the query page, live updates through the
// event stream, the compare page. ui_run.test.mjs: one run's timeline, files and memory.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { tinkCli } from './lib/tink.mjs';
import {
  artifactDir, loggedInPage, login, newContext, open, screenshot, until, waitReady, watchPage,
} from './lib/browser.mjs';
import { cellText, demoDaemon, q, rows, RUN_FAILED, RUN_OTHER } from './lib/ui_fixture.mjs';

describe('web view: login, pages, runs, query, live, compare', { timeout: 120000 }, () => {
  const fx = demoDaemon('tink-ui-');

  test('unauthenticated access is refused; the login form sets an HttpOnly SameSite=Strict cookie',
       { timeout: 30000 }, async () => {
    const root = await fetch(`${fx.server.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 303);
    assert.equal(new URL(root.headers.get('location'), fx.server.url).pathname, '/login');
    const runs = await fetch(`${fx.server.url}/v1/runs`);
    assert.equal(runs.status, 401);
    assert.equal((await runs.json()).error.code, 'unauthorized');
    const query = await fetch(`${fx.server.url}/v1/query`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: 'runs | count', format: 'json' }),
    });
    assert.equal(query.status, 401);
    // The pages' static files hold no data and need no login.
    const script = await fetch(`${fx.server.url}/ui/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /javascript/);

    const context = await newContext(fx.browser);
    try {
      const page = await context.newPage();
      const watch = watchPage(page, fx.server.url);
      await page.goto(`${fx.server.url}/`);
      assert.equal(new URL(page.url()).pathname, '/login');
      await page.waitForSelector('input#token[type=password][name=token]');
      assert.equal(await page.getByText('wrong token').isVisible(), false);

      // A wrong token: back on the login page, saying so, and no cookie.
      await login(page, fx.server, `${fx.server.token}x`);
      const wrong = new URL(page.url());
      assert.equal(wrong.pathname, '/login');
      assert.equal(wrong.searchParams.get('error'), '1');
      await page.getByText('wrong token').waitFor({ state: 'visible' });
      await screenshot(page, 'login');
      assert.deepEqual((await context.cookies()).filter((c) => c.name === 'tink_token'), []);

      // The right token: on /, the app loads, the cookie is HttpOnly and SameSite=Strict.
      await login(page, fx.server);
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
    const forged = { Cookie: `tink_token=${fx.server.token}x` };
    const forgedRoot = await fetch(`${fx.server.url}/`, { redirect: 'manual', headers: forged });
    assert.equal(forgedRoot.status, 303,
                 `GET / with a wrong tink_token cookie: ${forgedRoot.status} ` +
                 `${await forgedRoot.text()} (a stale cookie must lead to the login form)`);
    assert.equal(new URL(forgedRoot.headers.get('location'), fx.server.url).pathname, '/login');
    const forgedRuns = await fetch(`${fx.server.url}/v1/runs`, { headers: forged });
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
      const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
      try {
        await open(page, fx.hash(route()));
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
        const ran = await tinkCli(['shell', '--store', fx.store, '-c', behind, '--format', 'json']);
        assert.equal(ran.code, 0, `open as query: ${behind}: ${ran.stderr}`);
        watch.assertClean(`page ${name} (screenshot ${shot})`);
      } finally {
        await context.close();
      }
    });
  }

  test('the runs page lists every run with its status; filter and sort work', { timeout: 30000 },
       async () => {
    const want = await rows(fx.store, 'runs | select run, status, tasks');
    assert.ok(want.length > 1);
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash('/runs'));
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

  test('the query page shows the rows and the errors of tink shell -c', { timeout: 30000 },
       async () => {
    const statements = [
      // (basic_gui_mode never finished: a null cell.)
      'runs | select run, status, agent, finished, failed, tasks | sort run',
      `events | where run == ${q(RUN_FAILED)} | limit 4`,
      `why ${q(`${RUN_FAILED}/agent`)}`,
    ];
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash('/query'));
      for (const statement of statements) {
        const want = await rows(fx.store, statement);
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
      const out = await tinkCli(['shell', '--store', fx.store, '-c', bad, '--format', 'json']);
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
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash('/runs'));
      await until(async () => (await page.textContent('[data-testid=live]')).trim() === 'live',
                  'the live indicator says live');
      assert.equal(await page.$(`tr[data-run="${name}"]`), null);
      const res = await fetch(`${fx.server.url}/v1/events`, {
        method: 'POST',
        headers: fx.server.authHeaders({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ stream: `run/${name}`, type: 'run.started', run: name,
                               data: { name: 'live test', agent: 'ui-test', model: 'none' } }),
      });
      assert.equal(res.status, 200, await res.text());
      const row = await page.waitForSelector(`table[data-testid=runs-table] tr[data-run="${name}"]`,
                                             { timeout: 15000 });
      let want;
      await until(async () => {
        [want] = await rows(fx.store, `runs | where run == ${q(name)} | select status, agent`);
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

  test('the compare page marks the first divergence of diff A B', { timeout: 30000 }, async () => {
    const want = await rows(fx.store, `diff ${q(RUN_FAILED)} ${q(RUN_OTHER)}`);
    const first = want.find((r) => r.section === 'first_divergence');
    assert.ok(first, 'diff A B has no first_divergence row');
    const { context, page, watch } = await loggedInPage(fx.browser, fx.server);
    try {
      await open(page, fx.hash(`/compare?a=${RUN_FAILED}&b=${RUN_OTHER}`));
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
