// The hash router. Routes:
//   #/runs                              runs table (live)
//   #/run/RUN?as_of=N                   timeline (Gantt, failures, why chain)
//   #/run/RUN/files?as_of=N&path=P      canvas files, content, diff, blame
//   #/run/RUN/memory?as_of=N&node=ID    memory graph neighbourhood
//   #/query?q=Q                         the query box
//   #/compare?a=R1&b=R2                 two runs side by side
// A page module exports render(ctx) and, optionally, update(ctx) for a change of parameters
// only (the scrubber), which keeps the page's DOM. body[data-ready="1"] marks a page loaded.
import * as api from './lib/api.js';
import * as runs from './pages/runs.js';
import * as timeline from './pages/timeline.js';
import * as files from './pages/files.js';
import * as memory from './pages/memory.js';
import * as queryPage from './pages/query.js';
import * as compare from './pages/compare.js';

const routes = [
  { re: /^\/runs$/, page: runs, nav: 'runs' },
  { re: /^\/run\/([^/]+)$/, page: timeline, nav: 'runs' },
  { re: /^\/run\/([^/]+)\/files$/, page: files, nav: 'runs' },
  { re: /^\/run\/([^/]+)\/memory$/, page: memory, nav: 'runs' },
  { re: /^\/query$/, page: queryPage, nav: 'query' },
  { re: /^\/compare$/, page: compare, nav: 'compare' },
];

const main = document.getElementById('main');
let current = null; // {route, path, ctx, cleanups}
let generation = 0;
let busyCount = 0;

function setReady(on) {
  if (on) document.body.dataset.ready = '1';
  else delete document.body.dataset.ready;
}

// Marks the page busy while promise runs (body[data-ready] cleared), ready again after.
async function busy(promise) {
  busyCount++;
  setReady(false);
  try {
    return await promise;
  } catch (e) {
    api.show(e);
    return undefined;
  } finally {
    busyCount--;
    if (busyCount === 0) setReady(true);
  }
}

function parseHash() {
  let h = location.hash.replace(/^#/, '');
  if (!h || h === '/') h = '/runs';
  const i = h.indexOf('?');
  const path = i < 0 ? h : h.slice(0, i);
  const params = new URLSearchParams(i < 0 ? '' : h.slice(i + 1));
  return { path, params };
}

export function hashFor(path, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, v);
  }
  const s = qs.toString();
  return '#' + path + (s ? '?' + s : '');
}

function setOpenAsQuery(q) {
  const a = document.querySelector('[data-testid=open-as-query]');
  a.href = hashFor('/query', { q });
  a.title = q;
}

function makeCtx(route, path, params, match, gen) {
  const ctx = {
    root: main,
    path,
    params,
    match,
    run: match[1] ? decodeURIComponent(match[1]) : undefined,
    alive: () => gen === generation,
    // A check for one load: false once the page is left or its parameters changed again (a
    // newer update runs), so a slow answer never draws over a newer one.
    version: 0,
    fresh() {
      const v = ctx.version;
      return () => gen === generation && ctx.version === v;
    },
    cleanups: [],
    onCleanup(fn) {
      ctx.cleanups.push(fn);
    },
    setQuery: setOpenAsQuery,
    busy,
    // Changes this page's parameters: merges obj into them and updates the hash; the router
    // then calls update() (same page) without rebuilding it.
    setParams(obj, { replace = false } = {}) {
      const p = Object.fromEntries(ctx.params.entries());
      Object.assign(p, obj);
      const h = hashFor(path, p);
      if (replace) {
        history.replaceState(null, '', h);
        route_();
      } else {
        location.hash = h;
      }
    },
  };
  return ctx;
}

function markNav(nav) {
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('active', a.dataset.testid === 'nav-' + nav);
  }
}

async function route_() {
  const { path, params } = parseHash();
  let match = null;
  const route = routes.find((r) => (match = path.match(r.re)));
  if (current && route && current.route === route && current.path === path && route.page.update) {
    // Same page, other parameters: let the page update in place.
    current.ctx.params = params;
    current.ctx.version++;
    api.clearError();
    await busy(route.page.update(current.ctx));
    return;
  }
  const gen = ++generation;
  if (current) for (const fn of current.ctx.cleanups) fn();
  current = null;
  api.clearError();
  main.replaceChildren();
  if (!route) {
    main.textContent = `No page at ${path}.`;
    setReady(true);
    return;
  }
  markNav(route.nav);
  const ctx = makeCtx(route, path, params, match, gen);
  current = { route, path, ctx };
  setOpenAsQuery('runs');
  await busy(route.page.render(ctx));
}

window.addEventListener('hashchange', route_);
route_();
