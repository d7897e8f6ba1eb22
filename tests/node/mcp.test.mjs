// tink mcp and POST /mcp (issue 17, docs/mcp.md) driven by the official MCP TypeScript SDK
// client (@modelcontextprotocol/sdk, pinned in package-lock.json) on the demo store
// (scripts/demo-imports): over stdio (`tink mcp --store S`, and `tink mcp --server URL` in front
// of a daemon) and over Streamable HTTP (`tink serve`'s /mcp). Every tool's answer is checked
// against `tink shell -c '<the same statement>' --format json`; malformed JSON-RPC, a foreign
// Origin, an unknown session, an unknown tool and bad arguments get the errors docs/mcp.md
// names; and the calls the server answered are in the log afterwards (stream mcp/SESSION).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { buildDemoStore, parseJsonl, tempDir, tinkBin, tinkCli, TinkServer } from './lib/tink.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// `tink shell -c STATEMENT --format json` (locally, or through a daemon): rows, or the text.
async function shell(store, statement, server) {
  const where = server ? ['--server', server, '--store', store] : ['--store', store];
  const out = await tinkCli(['shell', ...where, '-c', statement, '--format', 'json']);
  assert.equal(out.code, 0, `tink shell -c ${statement}: ${out.stderr}`);
  return out.stdout;
}

const RUN_FAILED = 'ponylang__ponyc-4588';
const MARSH = 'marshmallow-code__marshmallow-1867';
const FIELDS = 'src/marshmallow/fields.py';

// Each tool with its arguments and the statement that must answer the same rows.
const ROW_TOOLS = [
  ['query', { query: 'runs | where failed > 0 | select run, status, failed | sort failed desc' },
   'runs | where failed > 0 | select run, status, failed | sort failed desc'],
  ['why', { task: `${RUN_FAILED}/100` }, `why '${RUN_FAILED}/100'`],
  ['timeline', { task: 'basic/3' }, "timeline 'basic/3'"],
  ['timeline', { run: 'basic', as_of: '1260' }, "timeline 'basic' as of 1260"],
  ['runs_diff', { a: 'OPENAI_trace', b: 'TINYAGENT_trace' }, "diff 'OPENAI_trace' 'TINYAGENT_trace'"],
  ['canvas_blame', { run: MARSH, path: FIELDS }, `blame '${FIELDS}' --run '${MARSH}'`],
  ['memory_neighbors', { node: 'task:basic/3' }, "neighbors 'task:basic/3'"],
  ['memory_path', { a: 'run:basic', b: 'file:basic/game_2048.py' },
   "path 'run:basic' 'file:basic/game_2048.py'"],
];

// Calls every tool through `client` and checks each answer against the shell (`server`: ask
// the daemon instead of opening the store). Returns the names of the tools called.
async function checkEveryTool(client, store, server) {
  const called = [];
  for (const [name, args, statement] of ROW_TOOLS) {
    const res = await client.callTool({ name, arguments: args });
    assert.equal(res.isError, false, `${name}: ${JSON.stringify(res.content)}`);
    assert.equal(res.structuredContent.query, statement);
    assert.equal(res.structuredContent.truncated, false);
    const want = JSON.parse(await shell(store, statement, server));
    assert.ok(want.length > 0, statement);
    assert.deepEqual(res.structuredContent.rows, want, name);
    // The text block is the same answer, as JSON.
    assert.deepEqual(JSON.parse(res.content[0].text), res.structuredContent);
    called.push(name);
  }
  // The limit cuts the rows and says so.
  const cut = await client.callTool({ name: 'query', arguments: { query: 'events', limit: 5 } });
  assert.equal(cut.structuredContent.rows.length, 5);
  assert.equal(cut.structuredContent.truncated, true);
  assert.deepEqual(cut.structuredContent.rows,
                   JSON.parse(await shell(store, 'events | limit 5', server)));
  called.push('query');

  const diffStatement = `diff '${FIELDS}' --run '${MARSH}' @1480 @1481`;
  const diff = await client.callTool({ name: 'canvas_diff',
                                       arguments: { run: MARSH, path: FIELDS, from: '1480', to: '1481' } });
  assert.equal(diff.isError, false, JSON.stringify(diff.content));
  assert.equal(diff.structuredContent.query, diffStatement);
  assert.match(diff.structuredContent.diff, /\+        return int\(round\(value.total_seconds/);
  assert.equal(diff.structuredContent.diff, await shell(store, diffStatement, server));
  called.push('canvas_diff');

  const report = await client.callTool({ name: 'report', arguments: { run: RUN_FAILED } });
  assert.equal(report.isError, false, JSON.stringify(report.content));
  const where = server ? ['--server', server, '--store', store] : ['--store', store];
  const cli = await tinkCli(['report', ...where, '--run', RUN_FAILED, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(report.structuredContent, JSON.parse(cli.stdout));
  called.push('report');

  const fact = `fact:mcp-test-${Math.random().toString(16).slice(2)}`;
  const rem = await client.callTool({
    name: 'remember',
    arguments: { nodes: [{ id: fact, labels: ['Fact'], props: { text: 'basic/3 wrote the game' } }],
                 edges: [{ src: fact, rel: 'ABOUT', dst: 'task:basic/3' }], run: 'basic' },
  });
  assert.equal(rem.isError, false, JSON.stringify(rem.content));
  assert.equal(rem.structuredContent.lsns.length, 2);
  assert.ok(rem.structuredContent.call_lsn > 0);
  const around = await client.callTool({ name: 'memory_neighbors', arguments: { node: fact } });
  assert.deepEqual(around.structuredContent.rows.map((r) => [r.id, r.via_rel]),
                   [['task:basic/3', 'ABOUT']]);
  called.push('remember', 'memory_neighbors');
  return { called, fact, remembered: rem.structuredContent };
}

async function checkResources(client, store) {
  const { resources } = await client.listResources();
  const runs = JSON.parse(await shell(store, 'runs | select run'));
  assert.deepEqual(resources.map((r) => r.name), runs.map((r) => r.run));
  assert.ok(resources.every((r) => r.uri.startsWith('tinkerbell://run/')));
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate),
                   ['tinkerbell://run/{id}', 'tinkerbell://run/{id}/file/{+path}{?as_of}']);
  const file = await client.readResource({ uri: 'tinkerbell://run/basic/file/game_2048.py' });
  const cat = await tinkCli(['canvas', 'cat', '--store', store, '--run', 'basic', 'game_2048.py']);
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(file.contents[0].text, cat.stdout);
  const old = await client.readResource({ uri: `tinkerbell://run/${MARSH}/file/${FIELDS}?as_of=1480` });
  const oldCat = await tinkCli(['canvas', 'cat', '--store', store, '--run', MARSH, FIELDS,
                                '--as-of', '1480']);
  assert.equal(old.contents[0].text, oldCat.stdout);
  const run = await client.readResource({ uri: 'tinkerbell://run/basic' });
  const body = JSON.parse(run.contents[0].text);
  assert.equal(body.run, 'basic');
  assert.deepEqual(body.timeline, JSON.parse(await shell(store, 'timeline basic')));
  await assert.rejects(client.readResource({ uri: 'tinkerbell://run/basic/file/nope.py' }),
                       (e) => e.code === -32002 && /nope\.py/.test(e.message));
}

async function checkErrors(client) {
  await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }),
                       (e) => e.code === -32602 && /Unknown tool: no_such_tool/.test(e.message));
  const bad = await client.callTool({ name: 'query', arguments: { query: 'runs', limit: 'all' } });
  assert.equal(bad.isError, true);
  assert.match(bad.content[0].text, /argument 'limit' must be an integer/);
  const wrong = await client.callTool({ name: 'query', arguments: { query: 'runs | wher x' } });
  assert.equal(wrong.isError, true);
  assert.match(wrong.content[0].text, /^error at 1:8: /);
  const missing = await client.callTool({ name: 'why', arguments: {} });
  assert.equal(missing.isError, true);
  assert.match(missing.content[0].text, /missing argument 'task'/);
}

// The exec tool runs a command in `workdir` as a task of `run`: its answer, its file on the
// canvas (as a resource and as tink canvas cat has it), and a failing command's exit code.
async function checkExec(client, store, workdir, run, server) {
  const res = await client.callTool({ name: 'exec', arguments: {
    command: ['sh', '-c', 'printf "made by exec\\n" > made.txt; echo done'], workdir, run } });
  assert.equal(res.isError, false, JSON.stringify(res.content));
  const s = res.structuredContent;
  assert.equal(s.run, run);
  assert.equal(s.exit_code, 0);
  assert.equal(s.stdout, 'done\n');
  assert.equal(s.files_changed, 1);
  const file = await client.readResource({ uri: `tinkerbell://run/${run}/file/made.txt` });
  assert.equal(file.contents[0].text, 'made by exec\n');
  const timeline = JSON.parse(await shell(store, `timeline ${run}`, server));
  assert.deepEqual(timeline.map((e) => e.type),
                   ['task.created', 'task.ready', 'task.started', 'tool.call', 'tool.output',
                    'tool.result', 'file.write', 'task.succeeded']);
  const failed = await client.callTool({ name: 'exec', arguments: {
    command: ['sh', '-c', 'echo oops >&2; exit 7'], workdir, run } });
  assert.equal(failed.isError, false);
  assert.equal(failed.structuredContent.exit_code, 7);
  assert.equal(failed.structuredContent.stderr, 'oops\n');
  assert.equal(failed.structuredContent.failure, 'exit code 7');
}

// The fenced blocks of docs/mcp.md: [info string, text].
async function docBlocks() {
  const doc = await readFile(path.join(repo, 'docs/mcp.md'), 'utf8');
  return [...doc.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => [m[1].trim(), m[2]]);
}

// Each `json mcp-call` block of docs/mcp.md, called, answers its `json mcp-result` block.
async function checkDocExamples(client) {
  const blocks = await docBlocks();
  let checked = 0;
  for (let i = 0; i < blocks.length; i++) {
    if (blocks[i][0] !== 'json mcp-call') continue;
    assert.equal(blocks[i + 1]?.[0], 'json mcp-result', 'a mcp-call block without its result');
    const call = JSON.parse(blocks[i][1]);
    const res = await client.callTool(call);
    assert.equal(res.isError, false, JSON.stringify(res.content));
    assert.deepEqual(res.structuredContent, JSON.parse(blocks[i + 1][1]), call.name);
    checked++;
  }
  assert.ok(checked >= 3, `only ${checked} examples in docs/mcp.md`);
}

// The session's records: a note naming the client, then a tool.call/tool.result pair per call.
async function checkRecorded(store, stream, clientName, tools) {
  const out = await tinkCli(['log', '--json', '--store', store, '--stream', stream]);
  assert.equal(out.code, 0, out.stderr);
  const events = parseJsonl(out.stdout);
  assert.equal(events[0].type, 'note');
  assert.match(events[0].data.text, new RegExp(`client ${clientName} 1\\.0\\.0`));
  const calls = events.filter((e) => e.type === 'tool.call').map((e) => e.data.tool);
  for (const t of tools) assert.ok(calls.includes(t), `${t} not recorded in ${calls}`);
  assert.ok(calls.includes('resources/read'));
  const results = events.filter((e) => e.type === 'tool.result');
  assert.equal(results.length, calls.length);
  assert.ok(results.some((e) => e.data.ok === false));  // the bad calls
  assert.ok(results.every((e) => typeof e.data.duration_ms === 'number'));
  return events;
}

describe('tink mcp over stdio (official SDK client)', { timeout: 170000 }, () => {
  let tmp;
  let store;
  before(async () => {
    tmp = await tempDir('tink-mcp-');
    store = path.join(tmp.dir, 'store');
    await buildDemoStore(store);
  });
  after(async () => tmp?.cleanup());

  test('initialize, tools, resources, errors, recording; exit 0 at EOF', async (t) => {
    const transport = new StdioClientTransport({ command: tinkBin(), args: ['mcp', '--store', store],
                                                 stderr: 'pipe' });
    let stderr = '';
    transport.stderr.on('data', (d) => { stderr += d; });
    const client = new Client({ name: 'tink-node-stdio', version: '1.0.0' });
    t.after(() => client.close().catch(() => {}));  // a failed assertion leaves no server behind
    await client.connect(transport);
    assert.equal(client.getServerVersion().name, 'tinkerbell');
    assert.ok(client.getServerCapabilities().tools);
    assert.ok(client.getServerCapabilities().resources);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(),
                     ['canvas_blame', 'canvas_diff', 'memory_neighbors', 'memory_path', 'query',
                      'remember', 'report', 'runs_diff', 'timeline', 'why']);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', t.name);
      assert.equal(t.outputSchema.type, 'object', t.name);
    }
    const { called } = await checkEveryTool(client, store);
    await checkDocExamples(client);
    await checkResources(client, store);
    await checkErrors(client);
    const exited = new Promise((resolve) => transport._process.once('exit', (code) => resolve(code)));
    await client.close();
    assert.equal(await exited, 0, stderr);
    const m = stderr.match(/session ([0-9a-f]{32})/);
    assert.ok(m, stderr);
    await checkRecorded(store, `mcp/${m[1]}`, 'tink-node-stdio', called);
  });

  test('the stdio configuration of docs/mcp.md starts a working server', async (t) => {
    const blocks = await docBlocks();
    const config = JSON.parse(blocks.find(([info]) => info === 'json mcp-config-stdio')[1]);
    const { command, args } = config.mcpServers.tinkerbell;
    assert.equal(command, 'tink');
    const storeAt = args.indexOf('--store');
    assert.ok(storeAt >= 0, args);
    const real = args.map((a, i) => (i === storeAt + 1 ? store : a));
    const client = new Client({ name: 'tink-node-config', version: '1.0.0' });
    t.after(() => client.close().catch(() => {}));
    await client.connect(new StdioClientTransport({ command: tinkBin(), args: real, stderr: 'ignore' }));
    const res = await client.callTool({ name: 'query', arguments: { query: 'runs | count' } });
    assert.deepEqual(res.structuredContent.rows, JSON.parse(await shell(store, 'runs | count')));
    await client.close();
  });

  test('exec with --allow-exec: a recorded command, its file on the canvas', async (t) => {
    const work = await tempDir('tink-mcp-exec-');
    t.after(() => work.cleanup());
    const client = new Client({ name: 'tink-node-exec', version: '1.0.0' });
    t.after(() => client.close().catch(() => {}));
    await client.connect(new StdioClientTransport({
      command: tinkBin(), args: ['mcp', '--store', store, '--allow-exec'], stderr: 'ignore' }));
    const { tools } = await client.listTools();
    assert.ok(tools.some((x) => x.name === 'exec'));
    await checkExec(client, store, work.dir, 'mcp-exec-stdio');
  });

  test('a store held by a daemon is refused, pointing to --server', async () => {
    const srv = await TinkServer.start({ store });
    try {
      const out = await tinkCli(['mcp', '--store', store], { timeoutMs: 30000 });
      assert.equal(out.code, 4);
      assert.match(out.stderr, /locked by another process.*--server/);
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });
});

describe('tink serve POST /mcp (Streamable HTTP) and tink mcp --server', { timeout: 170000 }, () => {
  let tmp;
  let store;
  let srv;
  before(async () => {
    tmp = await tempDir('tink-mcp-http-');
    store = path.join(tmp.dir, 'store');
    await buildDemoStore(store);
    srv = await TinkServer.start({ store });
  });
  after(async () => {
    if (srv) await srv.stop();
    await tmp?.cleanup();
  });

  test('the SDK client over Streamable HTTP, configured as docs/mcp.md says', async (t) => {
    const blocks = await docBlocks();
    const config = JSON.parse(blocks.find(([info]) => info === 'json mcp-config-http')[1]);
    const { type, url, headers } = config.mcpServers.tinkerbell;
    assert.equal(type, 'http');
    const endpoint = new URL(url);
    assert.equal(endpoint.pathname, '/mcp');
    endpoint.port = String(srv.port);  // the page's default port; the test's daemon is elsewhere
    const real = Object.fromEntries(Object.entries(headers)
      .map(([k, v]) => [k, v.replace('TOKEN', srv.token)]));
    const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: real } });
    const client = new Client({ name: 'tink-node-http', version: '1.0.0' });
    t.after(() => client.close().catch(() => {}));
    await client.connect(transport);
    assert.match(transport.sessionId, /^[0-9a-f]{32}$/);
    assert.equal(client.getServerVersion().name, 'tinkerbell');
    const { called } = await checkEveryTool(client, store, srv.url);
    await checkDocExamples(client);
    await checkErrors(client);
    const file = await client.readResource({ uri: 'tinkerbell://run/basic/file/game_2048.py' });
    assert.match(file.contents[0].text, /class Game2048/);
    const session = transport.sessionId;
    await transport.terminateSession();
    await client.close();
    const events = await srv.events({ stream: `mcp/${session}` });
    assert.equal(events[0].type, 'note');
    assert.match(events[0].data.text, /\(http\): client tink-node-http 1\.0\.0, protocol 2025-11-25/);
    const calls = events.filter((e) => e.type === 'tool.call').map((e) => e.data.tool);
    for (const t of called) assert.ok(calls.includes(t), `${t} not recorded`);
    // The ended session is gone.
    const res = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: srv.authHeaders({ 'Content-Type': 'application/json', 'Mcp-Session-Id': session }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(res.status, 404);
  });

  test('several clients at once, and concurrent calls in one session', async (t) => {
    const statement = "tasks | where run == 'basic' | select id, state";
    const want = JSON.parse(await shell(store, statement, srv.url));
    const clients = [];
    for (let i = 0; i < 4; i++) {
      const client = new Client({ name: `tink-node-many-${i}`, version: '1.0.0' });
      t.after(() => client.close().catch(() => {}));
      await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), {
        requestInit: { headers: srv.authHeaders() } }));
      clients.push(client);
    }
    const calls = [];
    for (const client of clients) {
      for (let j = 0; j < 8; j++) {
        calls.push(client.callTool({ name: 'query', arguments: { query: statement } }));
      }
    }
    for (const res of await Promise.all(calls)) {
      assert.equal(res.isError, false, JSON.stringify(res.content));
      assert.deepEqual(res.structuredContent.rows, want);
    }
  });

  test('raw HTTP: malformed JSON-RPC, methods, sessions, Origin, token', async () => {
    const post = (body, headers = {}) => fetch(`${srv.url}/mcp`, {
      method: 'POST', body,
      headers: srv.authHeaders({ 'Content-Type': 'application/json',
                                 Accept: 'application/json, text/event-stream', ...headers }),
    });
    let res = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, -32700);
    res = await post('[{"jsonrpc":"2.0","id":1,"method":"ping"}]');
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /batch/);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /Mcp-Session-Id header is required/);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
                     { 'Mcp-Session-Id': '0123456789abcdef0123456789abcdef' });
    assert.equal(res.status, 404);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
                                      params: { protocolVersion: '2024-11-05',
                                                clientInfo: { name: 'raw', version: '0' } } }));
    assert.equal(res.status, 200);
    const session = res.headers.get('mcp-session-id');
    assert.match(session, /^[0-9a-f]{32}$/);
    assert.equal((await res.json()).result.protocolVersion, '2024-11-05');
    const s = { 'Mcp-Session-Id': session };
    res = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), s);
    assert.equal(res.status, 202);
    res = await post(JSON.stringify({ jsonrpc: '1.0', id: 2, method: 'ping' }), s);
    assert.equal((await res.json()).error.code, -32600);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'nope' }), s);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).error.code, -32601);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping' }),
                     { ...s, 'MCP-Protocol-Version': '1999-01-01' });
    assert.equal(res.status, 400);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }),
                     { ...s, Origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping' }),
                     { ...s, Origin: 'http://localhost:3000' });
    assert.equal(res.status, 200);
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }), { ...s, 'Content-Type': 'text/plain' });
    assert.equal(res.status, 415);
    res = await fetch(`${srv.url}/mcp`, { headers: srv.authHeaders(s) });
    assert.equal(res.status, 405);
    res = await fetch(`${srv.url}/mcp`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(res.status, 401);
    // The daemon still answers after all that.
    res = await post(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ping' }), s);
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 8, result: {} });
  });

  test('tink serve --mcp-allow-exec lists exec and runs it; without it exec is unknown', async (t) => {
    const plain = new Client({ name: 'tink-node-noexec', version: '1.0.0' });
    t.after(() => plain.close().catch(() => {}));
    await plain.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), {
      requestInit: { headers: srv.authHeaders() } }));
    assert.ok(!(await plain.listTools()).tools.some((x) => x.name === 'exec'));
    await assert.rejects(plain.callTool({ name: 'exec', arguments: { command: ['true'] } }),
                         (e) => e.code === -32602);
    await plain.close();
    assert.equal(await srv.stop(), 0);
    srv = await TinkServer.start({ store, args: ['--mcp-allow-exec'] });
    const work = await tempDir('tink-mcp-exec-http-');
    t.after(() => work.cleanup());
    const client = new Client({ name: 'tink-node-exec-http', version: '1.0.0' });
    t.after(() => client.close().catch(() => {}));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), {
      requestInit: { headers: srv.authHeaders() } }));
    assert.ok((await client.listTools()).tools.some((x) => x.name === 'exec'));
    await checkExec(client, store, work.dir, 'mcp-exec-http', srv.url);
  });

  test('tink mcp --server: the same tools through the daemon', async (t) => {
    const transport = new StdioClientTransport({
      command: tinkBin(), args: ['mcp', '--server', srv.url, '--store', store, '--allow-exec'],
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr.on('data', (d) => { stderr += d; });
    const client = new Client({ name: 'tink-node-remote', version: '1.0.0' });
    t.after(() => client.close().catch(() => {}));
    await client.connect(transport);
    const { called } = await checkEveryTool(client, store, srv.url);
    await checkErrors(client);
    const file = await client.readResource({ uri: 'tinkerbell://run/basic/file/game_2048.py' });
    const cat = await fetch(`${srv.url}/v1/query`, {
      method: 'POST', headers: srv.authHeaders({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ query: "blame 'game_2048.py' --run 'basic'", format: 'json' }),
    });
    const lines = (await cat.json()).map((r) => `${r.text}\n`).join('');
    assert.equal(file.contents[0].text, lines);
    const work = await tempDir('tink-mcp-exec-remote-');
    t.after(() => work.cleanup());
    await checkExec(client, store, work.dir, 'mcp-exec-remote', srv.url);
    await client.close();
    const m = stderr.match(/session ([0-9a-f]{32})/);
    assert.ok(m, stderr);
    const events = await srv.events({ stream: `mcp/${m[1]}` });
    assert.match(events[0].data.text, /\(stdio\): client tink-node-remote 1\.0\.0/);
    const calls = events.filter((e) => e.type === 'tool.call').map((e) => e.data.tool);
    for (const t of called) assert.ok(calls.includes(t), `${t} not recorded`);
  });
});
