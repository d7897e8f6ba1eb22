// The browser half of the web view's tests (tests/node/ui.test.mjs, issue 18): Debian's Chromium
// (/usr/bin/chromium, scripts/deps installs it) driven headless by playwright-core (pinned in
// package-lock.json; never a browser download), a login through the real login form, a watch
// on each page for console errors, uncaught exceptions, failed requests and HTTP errors, and
// screenshots saved as test artifacts ($TINK_ARTIFACT_DIR/ui/, set by tests/node/CMakeLists.txt).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// The Chromium binary: $TINK_CHROMIUM, else Debian's. A missing one is a failure, not a skip.
export function chromiumPath() {
  const bin = process.env.TINK_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: install Debian's chromium (scripts/deps does)`);
  }
  return bin;
}

// Headless, no sandbox (tests run as root in containers), nothing that reaches the network on
// its own (background updates, QUIC, sync).
export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
}

export const VIEWPORT = { width: 1280, height: 800 };

// A fresh browser context (its own cookie jar) with the test's bounds on every wait.
export async function newContext(browser, { timeoutMs = 15000 } = {}) {
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  context.setDefaultTimeout(timeoutMs);
  context.setDefaultNavigationTimeout(timeoutMs);
  return context;
}

// Logs in through the login form: GET / (redirected to /login), the token typed into
// input#token, the form submitted; resolves once the browser is back on / (after the 303).
export async function login(page, server, token = server.token) {
  await page.goto(`${server.url}/`);
  await page.waitForURL((u) => u.pathname === '/login');
  await page.fill('input#token', token);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login' || u.search.includes('error=1')),
    page.locator('form[action="/login"] [type=submit]').first().click(),
  ]);
}

// A new context logged in with the right token, and a page in it.
export async function loggedInPage(browser, server) {
  const context = await newContext(browser);
  const page = await context.newPage();
  const watch = watchPage(page, server.url);
  await login(page, server);
  return { context, page, watch };
}

// Everything on `page` that counts as a problem: console.error messages, uncaught exceptions,
// requests that failed at the network level, and answers with a status >= 400. A test that
// provokes an error itself (a bad query's 400) lists it in `expected` (predicates on
// {url, status}). The one network failure that is not a problem: the client closing the live
// event stream (/v1/events?follow=1, net::ERR_ABORTED) when the page leaves it. With `origin`
// (the daemon's URL), any request elsewhere is a problem too: nothing loads from outside it.
export function watchPage(page, origin) {
  const problems = [];
  const expected = [];
  const isExpected = (r) => expected.some((f) => f(r));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Chromium logs every >= 400 answer as a console error too; those are judged below.
    if (/^Failed to load resource: the server responded with a status of/.test(msg.text())) {
      const url = msg.location()?.url ?? '';
      const status = Number((msg.text().match(/status of (\d+)/) || [])[1]);
      if (isExpected({ url, status })) return;
    }
    problems.push(`console.error: ${msg.text()} (${msg.location()?.url ?? ''})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.stack || err.message}`));
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (origin && /^(https?|wss?):$/.test(url.protocol) && url.origin !== new URL(origin).origin) {
      problems.push(`request outside the daemon: ${req.method()} ${req.url()}`);
    }
  });
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? '';
    const url = new URL(req.url());
    if (failure === 'net::ERR_ABORTED' && url.pathname === '/v1/events' &&
        url.searchParams.get('follow') === '1') {
      return;
    }
    problems.push(`request failed: ${req.method()} ${req.url()}: ${failure}`);
  });
  page.on('response', (res) => {
    if (res.status() < 400) return;
    if (isExpected({ url: res.url(), status: res.status() })) return;
    problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return {
    problems,
    // Allows answers matching predicate({url, status}) from now on.
    expect(predicate) {
      expected.push(predicate);
    },
    // Throws listing every problem seen so far.
    assertClean(what) {
      if (problems.length) {
        throw new Error(`${what}: ${problems.length} problem(s) in the browser:\n  ` +
                        problems.join('\n  '));
      }
    },
  };
}

// Waits (bounded) for the page's "finished loading" flag: body[data-ready="1"].
export async function waitReady(page, timeoutMs = 15000) {
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: timeoutMs });
}

// Loads URL as a new document and waits for body[data-ready="1"]. A URL that differs from the
// page's only in its #fragment would be a same-document navigation (the old page's ready flag
// still set, its scripts not run again), so the page goes through about:blank first.
export async function open(page, url) {
  const strip = (u) => u.replace(/#.*$/, '');
  if (strip(page.url()) === strip(url)) await page.goto('about:blank');
  await page.goto(url);
  await waitReady(page);
}

// The artifact directory for screenshots: $TINK_ARTIFACT_DIR/ui (ctest sets it to
// build/artifacts), else build/artifacts/ui under the repository.
export function artifactDir() {
  const base = process.env.TINK_ARTIFACT_DIR || path.join(repoRoot, 'build', 'artifacts');
  const dir = path.join(base, 'ui');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page, name) {
  const file = path.join(artifactDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// Polls fn() (async allowed) until it returns true, at most timeoutMs. Anything else it returns
// (or throws) is "not yet", and the last such value is in the rejection, so a failing wait says
// what the page showed instead.
export async function until(fn, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last === true) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const shown = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last: ${shown}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
