// Load times of the web view (issue 18's closing note; not a test: no assertion on time).
// Starts `tink serve` on STORE, times the JSON endpoints the pages read (first call and warm),
// then, in Debian's Chromium driven by playwright-core, the time from navigation to a page's
// `body[data-ready="1"]` for the runs page and for RUN's timeline (top, middle of the task rows,
// the scrubber moved), files and memory pages.
//   TINK_BIN=build/shell/tink node tests/node/bench/web_load.mjs STORE RUN [--make-tasks N]
// --make-tasks N first appends a synthetic run RUN of N tasks (a root, groups of 99 steps, each
// step an LLM call and a tool call, 2% of them failing; ~8 events a task) to STORE with
// `tink append`. STORE must not be held by a daemon.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

import { chromium } from 'playwright-core';

import { tinkBin, TinkServer } from '../lib/tink.mjs';

const args = process.argv.slice(2);
const [store, run] = args;
if (!store || !run) {
  console.error('usage: web_load.mjs STORE RUN [--make-tasks N]');
  process.exit(1);
}
const makeAt = args.indexOf('--make-tasks');
const makeTasks = makeAt >= 0 ? Number(args[makeAt + 1]) : 0;

// A deterministic pseudo-random sequence (the run is the same every time).
let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

function syntheticRun(n) {
  const lines = [];
  let ms = Date.UTC(2026, 0, 1);
  const ev = (task, type, data) => {
    ms += 5 + Math.floor(random() * 200);
    const stream = task ? `run/${run}/task/${task}` : `run/${run}`;
    lines.push(JSON.stringify({ stream, type, run, occurred: new Date(ms).toISOString(),
                                data: task ? { task, ...data } : data }));
  };
  ev('', 'run.started', { name: `${n} synthetic tasks`, agent: 'synthetic', model: 'm' });
  ev('root', 'task.created', { name: 'root' });
  ev('root', 'task.ready', {});
  ev('root', 'task.started', {});
  let made = 1;
  for (let g = 0; made < n; g++) {
    const gid = `g${g}`;
    ev(gid, 'task.created', { parent: 'root', name: `group ${g}` });
    ev(gid, 'task.ready', {});
    ev(gid, 'task.started', {});
    made++;
    for (let k = 0; k < 99 && made < n; k++, made++) {
      const id = `g${g}-${k}`;
      ev(id, 'task.created', { parent: gid, name: `step ${k} of group ${g}` });
      ev(id, 'task.ready', {});
      ev(id, 'task.started', {});
      ev(id, 'llm.request', { call_id: `${id}c`, model: 'm',
                              messages: [{ role: 'user', content: `do step ${k}` }] });
      ev(id, 'llm.response', { call_id: `${id}c`, content: 'ok', input_tokens: 120,
                               output_tokens: 9 });
      ev(id, 'tool.call', { tool: 'bash', call_id: `${id}t`, args: { command: 'make' } });
      const fail = random() < 0.02;
      ev(id, 'tool.result', { tool: 'bash', call_id: `${id}t`, exit_code: fail ? 1 : 0,
                              output: fail ? 'make: *** error' : 'ok' });
      ev(id, fail ? 'task.failed' : 'task.succeeded', fail ? { error: 'make failed' } : {});
    }
    ev(gid, 'task.succeeded', {});
  }
  ev('root', 'task.failed', { error: 'some steps failed' });
  ev('', 'run.finished', { status: 'failed' });
  return lines.join('\n') + '\n';
}

async function append(text) {
  const child = spawn(tinkBin(), ['append', '--store', store], { stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin.end(text);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`tink append: exit ${code}`);
}

if (makeTasks > 0) {
  const t0 = Date.now();
  const text = syntheticRun(makeTasks);
  await append(text);
  console.log(`appended run ${run}: ${text.split('\n').length - 1} events in ${Date.now() - t0} ms`);
}

const server = await TinkServer.start({ store, readyTimeoutMs: 600000 });
const token = (await readFile(`${store}/token`, 'utf8')).trim();
const get = async (target) => {
  const t0 = performance.now();
  const r = await fetch(server.url + target, { headers: { authorization: `Bearer ${token}` } });
  const body = await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${target}: ${r.status} ${Buffer.from(body)}`);
  return { ms: performance.now() - t0, bytes: body.byteLength, json: () => JSON.parse(Buffer.from(body)) };
};
const row = (what, r) => console.log(`${what.padEnd(48)} ${r.ms.toFixed(1).padStart(8)} ms ${String(r.bytes).padStart(9)} B`);

row('GET /v1/runs (first)', await get('/v1/runs'));
row('GET /v1/runs (warm)', await get('/v1/runs'));
const tl = `/v1/runs/${encodeURIComponent(run)}/timeline`;
const first = await get(`${tl}?limit=100`);
row('timeline rows 0-99 (first: reads the run)', first);
const g = first.json();
row('timeline rows 0-99 (warm)', await get(`${tl}?limit=100`));
row(`timeline rows ${Math.floor(g.total_tasks / 2)}+100`, await get(`${tl}?limit=100&offset=${Math.floor(g.total_tasks / 2)}`));
const mid = Math.floor((g.first_lsn + g.run_last_lsn) / 2);
row(`timeline as of ${mid}`, await get(`${tl}?limit=100&as_of=${mid}`));
console.log(`(${g.total_tasks} tasks, LSN ${g.first_lsn}..${g.run_last_lsn})`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(`${server.url}/login`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  const timePage = async (what, hash) => {
    const t0 = performance.now();
    await page.goto(`${server.url}/#${hash}`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
    console.log(`${('page ' + what).padEnd(48)} ${(performance.now() - t0).toFixed(0).padStart(8)} ms`);
  };
  await timePage('runs', '/runs');
  const r = encodeURIComponent(run);
  await timePage('timeline', `/run/${r}`);
  await timePage(`timeline as of ${mid}`, `/run/${r}?as_of=${mid}`);
  await timePage('files', `/run/${r}/files`);
  await timePage('memory', `/run/${r}/memory`);
  await timePage('query (tasks of the run)', `/query?q=${encodeURIComponent(`tasks | where run == '${run}' | limit 1000`)}`);
} finally {
  await browser.close();
  await server.stop();
}
