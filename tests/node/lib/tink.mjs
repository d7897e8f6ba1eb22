// The harness of the Node tests (tests/node/): runs `tink serve` as a child process on a fresh
// store with a loopback port chosen by the kernel, waits (bounded) for its "listening on" line,
// reads the token, reads events back over HTTP or through the CLI, and stops the daemon with
// SIGTERM and a bounded wait. Every child still running when the test process exits is
// SIGKILLed, so no daemon outlives its test. The tink binary is $TINK_BIN (set by ctest).
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

// The tink binary: $TINK_BIN, which must exist (a missing one is a failure, not a skip).
export function tinkBin() {
  const bin = process.env.TINK_BIN;
  if (!bin) throw new Error('TINK_BIN is not set: run these tests through ctest (ctest -L node)');
  if (!existsSync(bin)) throw new Error(`TINK_BIN=${bin} does not exist: build the tink target`);
  return bin;
}

// A fresh directory under the system temp dir; removed by the returned cleanup().
export async function tempDir(prefix = 'tink-node-') {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TinkServer {
  constructor(child, store, port) {
    this.child = child;
    this.store = store;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.token = '';
    this.stderr = '';
    this.exitCode = null;
  }

  // Starts `tink serve --store STORE --listen 127.0.0.1:0 ARGS...` with ENV added to this
  // process's environment; resolves once the daemon printed its "listening on" line (at most
  // readyTimeoutMs), rejects with its stderr when it exits first or says nothing in time.
  static async start({ store, args = [], env = {}, readyTimeoutMs = 30000 }) {
    const bin = tinkBin();
    const child = spawn(bin, ['serve', '--store', store, '--listen', '127.0.0.1:0', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const server = new TinkServer(child, store, 0);
    child.stdout.on('data', () => {});  // drained: a chatty child never blocks on a full pipe
    const exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        server.exitCode = code ?? 128 + (osConstants.signals[signal] ?? 0);
        children.delete(child);
        resolve(server.exitCode);
      });
    });
    server.exited = exited;
    const port = await new Promise((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`tink serve did not say it listens within ${readyTimeoutMs} ms; ` +
                         `stderr:\n${server.stderr}`));
      }, readyTimeoutMs);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text) => {
        server.stderr += text;
        buffered += text;
        const m = buffered.match(/^tink serve: listening on http:\/\/127\.0\.0\.1:(\d+)/m);
        if (m) {
          clearTimeout(timer);
          buffered = '';
          resolve(Number(m[1]));
        }
      });
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`tink serve exited (${code}) before listening; stderr:\n${server.stderr}`));
      });
    });
    server.port = port;
    server.url = `http://127.0.0.1:${port}`;
    server.token = (await readFile(path.join(store, 'token'), 'utf8')).trim();
    return server;
  }

  get running() {
    return this.exitCode === null;
  }

  // SIGTERM, then waits up to timeoutMs for the exit; SIGKILL after that. Resolves to the exit
  // code (0 after a clean stop; 128+N for a signal).
  async stop(timeoutMs = 20000) {
    if (!this.running) return this.exitCode;
    this.child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const first = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (first === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`tink serve did not exit within ${timeoutMs} ms of SIGTERM; stderr:\n` +
                      this.stderr);
    }
    return first;
  }

  kill() {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  authHeaders(more = {}) {
    return { Authorization: `Bearer ${this.token}`, ...more };
  }

  // GET /v1/events with these query parameters (run, type, stream, from, ...): the events as
  // parsed objects, in log order.
  async events(params = {}) {
    const query = new URLSearchParams(params).toString();
    const res = await fetch(`${this.url}/v1/events?${query}`, { headers: this.authHeaders() });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /v1/events?${query}: ${res.status} ${text}`);
    return parseJsonl(text);
  }

  // Polls events(params) until check(events) is truthy (at most timeoutMs): the proxy records
  // an answer after the client has read it, so a test reads the log until the events are there.
  // Resolves to the last events read; rejects with them when the time is up.
  async waitForEvents(params, check, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    let events = [];
    for (;;) {
      events = await this.events(params);
      if (check(events)) return events;
      if (Date.now() > deadline) {
        throw new Error(`events ${JSON.stringify(params)} did not reach the expected state in ` +
                        `${timeoutMs} ms; have:\n${events.map((e) => JSON.stringify(e)).join('\n')}`);
      }
      await sleep(50);
    }
  }

  async stats() {
    const res = await fetch(`${this.url}/v1/stats`, { headers: this.authHeaders() });
    if (res.status !== 200) throw new Error(`GET /v1/stats: ${res.status} ${await res.text()}`);
    return res.json();
  }
}

export function parseJsonl(text) {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}

// Runs `tink ARGS...` (bounded: timeoutMs); resolves to {code, stdout, stderr}, never rejects
// on a non-zero exit (the test asserts the code).
export function tinkCli(args, { env = {}, timeoutMs = 60000 } = {}) {
  const bin = tinkBin();
  return new Promise((resolve) => {
    execFile(bin, args, { env: { ...process.env, ...env }, timeout: timeoutMs,
                          maxBuffer: 256 * 1024 * 1024 },
             (error, stdout, stderr) => {
               const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
               resolve({ code, stdout, stderr });
             });
  });
}

// `tink log --json --store STORE ARGS...` (the daemon stopped, or a store it does not own).
export async function logJson(store, args = []) {
  const out = await tinkCli(['log', '--json', '--store', store, ...args]);
  if (out.code !== 0) throw new Error(`tink log --json --store ${store}: exit ${out.code}: ${out.stderr}`);
  return parseJsonl(out.stdout);
}

// Every regular file under dir (recursively), as [relative path, Buffer].
export async function readAllFiles(dir) {
  const out = [];
  const walk = async (d) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push([path.relative(dir, full), await readFile(full)]);
    }
  };
  await walk(dir);
  return out;
}

// The files under dir (but `except`, relative paths) whose bytes contain needle.
export async function filesContaining(dir, needle, except = []) {
  const hits = [];
  for (const [rel, bytes] of await readAllFiles(dir)) {
    if (except.includes(rel)) continue;
    if (bytes.includes(Buffer.from(needle))) hits.push(rel);
  }
  return hits;
}

// A loopback port nothing listens on (bound by the kernel, then closed).
export async function closedPort() {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// The catalog types of events (run./task./llm./tool.), in order.
export const types = (events) => events.map((e) => e.type);

// The demo store: one `tink import` per line of scripts/demo-imports (paths from the repo root),
// as scripts/demo builds it.
export async function buildDemoStore(store) {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const lines = (await readFile(path.join(repo, 'scripts/demo-imports'), 'utf8')).split('\n');
  for (const line of lines) {
    const args = line.trim().split(/\s+/).filter((a) => a !== '');
    if (args.length === 0 || args[0].startsWith('#')) continue;
    const resolved = args.map((a) => (a.startsWith('tests/') ? path.join(repo, a) : a));
    const out = await tinkCli(['import', '--store', store, ...resolved]);
    if (out.code !== 0) throw new Error(`tink import ${line}: exit ${out.code}: ${out.stderr}`);
  }
}
