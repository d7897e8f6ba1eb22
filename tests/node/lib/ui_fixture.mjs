// The fixture of the web view's browser tests (ui.test.mjs, ui_run.test.mjs): a demo store
// (scripts/demo-imports) in a temp dir, a `tink serve` on it, one headless Chromium for the
// file, and the shell on the same store for what the pages must show (`rows`).
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
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';

import { buildDemoStore, tempDir, tinkCli, TinkServer } from './tink.mjs';
import { launchBrowser } from './browser.mjs';

export const RUN_FAILED = 'ponylang__ponyc-4588';
export const RUN_OTHER = 'ponylang__ponyc-4593';

// `tink shell --store STORE -c STATEMENT --format json`, opened read-only beside the daemon:
// the rows.
export async function rows(store, statement) {
  const out = await tinkCli(['shell', '--store', store, '-c', statement, '--format', 'json']);
  assert.equal(out.code, 0, `tink shell -c ${statement}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

// A value quoted for the query language.
export const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

// A query result cell as the query page renders it (docs/web.md): a string as is, null empty,
// anything else as compact JSON.
export const cellText = (v) => (v === null || v === undefined ? '' : typeof v === 'string' ? v
                                : JSON.stringify(v));

// Runs CMD ARGS (bounded); resolves to {code, stdout, stderr}, never rejects.
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30000, maxBuffer: 64 * 1024 * 1024, ...opts },
             (error, stdout, stderr) => resolve({ code: error ? (error.code ?? -1) : 0, stdout,
                                                  stderr }));
  });
}

// The [data-path] entries of the files page's tree, sorted.
export const treePaths = (page) => page.$$eval('[data-testid=file-tree] [data-path]',
                                               (els) => els.map((e) => e.dataset.path).sort());

// Moves the run view's scrubber the way a user's drag ends: its value set, input and change
// dispatched.
export async function scrub(page, lsn) {
  await page.locator('input[type=range][data-testid=scrubber]').evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, lsn);
}

// Registers the suite's hooks (call it inside describe): before, the demo store, the daemon and
// the browser; after, all three gone. The returned object holds them once before has run, and
// hash('/runs') is the daemon's URL of a page. TINK_WEB_DIR (development: the pages read from
// disk) passes through from this process's environment; ctest does not set it, so the tests run
// on the assets compiled into tink.
export function demoDaemon(prefix) {
  const fx = { hash: (h) => `${fx.server.url}/#${h}` };
  before(async () => {
    fx.tmp = await tempDir(prefix);
    fx.store = path.join(fx.tmp.dir, 'demo.store');
    await buildDemoStore(fx.store);
    fx.server = await TinkServer.start({ store: fx.store });
    fx.browser = await launchBrowser();
  });
  after(async () => {
    try {
      if (fx.browser) await fx.browser.close();
      if (fx.server) assert.equal(await fx.server.stop(), 0, fx.server.stderr);
    } finally {
      if (fx.tmp) await fx.tmp.cleanup();
    }
  });
  return fx;
}
