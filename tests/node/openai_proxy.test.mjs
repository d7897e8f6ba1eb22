// The recording proxy of `tink serve --llm-upstream` (issue 15) driven by the official OpenAI
// Node SDK: non-streaming and streaming calls through the daemon to a fake upstream on loopback,
// what is recorded, what the upstream receives (the daemon's key, never the daemon's token),
// secrets never stored, and upstream errors (429, unreachable) returned and recorded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import OpenAI from 'openai';

import { startFakeUpstream, usageFor } from './lib/fake_upstream.mjs';
import { closedPort, filesContaining, logJson, tempDir, TinkServer, types } from './lib/tink.mjs';

const UPSTREAM_KEY = 'sk-upstream-secret-6f1d2c9a7b3e4d5f';
const CLIENT_KEY = 'sk-client-own-key-0a9b8c7d6e5f4a3b';

describe('openai SDK through the recording proxy', { timeout: 150000 }, () => {
  let upstream;
  let tmp;
  let store;
  let srv;
  let client;

  before(async () => {
    upstream = await startFakeUpstream();
    tmp = await tempDir();
    store = path.join(tmp.dir, 'store');
    const dead = await closedPort();
    srv = await TinkServer.start({
      store,
      args: ['--llm-upstream', `fake=${upstream.url}`,
             '--llm-upstream', `dead=http://127.0.0.1:${dead}/v1`],
      env: { TINK_LLM_KEY_FAKE: UPSTREAM_KEY },
    });
    client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: srv.token, maxRetries: 0,
                          timeout: 30000, defaultHeaders: { 'X-Tinkerbell-Run': 'r1' } });
  });

  after(async () => {
    if (srv) await srv.kill();
    if (upstream) await upstream.close();
    if (tmp) await tmp.cleanup();
  });

  const messages = [
    { role: 'system', content: 'You answer briefly.' },
    { role: 'user', content: 'hello there proxy' },
  ];

  test('a non-streaming call: the answer is the upstream\'s, and it is recorded', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages,
                                                       temperature: 0, max_tokens: 50 });
    const call = upstream.calls.at(-1);
    assert.deepEqual(res, call.response);
    assert.equal(res.choices[0].message.content, 'echo: hello there proxy');

    // What the upstream received: the body as sent, the daemon's key for this upstream.
    assert.equal(call.body.model, 'gpt-4o-mini');
    assert.deepEqual(call.body.messages, messages);
    assert.equal(call.body.temperature, 0);
    assert.equal(call.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.ok(!JSON.stringify(call.headers).includes(srv.token),
              'the daemon token must not reach the upstream');

    const events = await srv.waitForEvents({ run: 'r1' },
                                           (es) => es.some((e) => e.type === 'llm.response'));
    assert.deepEqual(types(events), ['run.started', 'task.created', 'task.ready', 'task.started',
                                     'llm.request', 'llm.response']);
    assert.equal(events[0].stream, 'run/r1');
    for (const e of events.slice(1)) {
      assert.equal(e.stream, 'run/r1/task/agent');
      assert.equal(e.run, 'r1');
    }
    assert.equal(events[1].data.task, 'agent');
    const [req, resp] = events.slice(4);
    assert.equal(req.data.task, 'agent');
    assert.equal(req.data.model, 'gpt-4o-mini');
    assert.deepEqual(req.data.messages, messages);
    assert.equal(req.data.params.temperature, 0);
    assert.equal(req.data.params.max_tokens, 50);
    assert.equal(req.data.endpoint, '/v1/chat/completions');
    assert.equal(req.data.stream, false);
    assert.equal(req.data.provider, 'fake');
    assert.ok(req.data.call_id, 'llm.request has a call_id');

    const usage = usageFor(call.body, res.choices[0].message.content);
    assert.equal(resp.data.call_id, req.data.call_id);
    assert.equal(resp.data.task, 'agent');
    assert.equal(resp.data.model, 'gpt-4o-mini-2025-01-01');
    assert.equal(resp.data.content, 'echo: hello there proxy');
    assert.equal(resp.data.finish_reason, 'stop');
    assert.equal(resp.data.input_tokens, usage.prompt_tokens);
    assert.equal(resp.data.output_tokens, usage.completion_tokens);
    assert.equal(resp.data.cached_tokens, usage.prompt_tokens_details.cached_tokens);
    assert.equal(resp.data.status, 200);
    assert.equal(resp.data.provider, 'fake');
    assert.equal(typeof resp.data.latency_ms, 'number');
    assert.ok(resp.data.latency_ms >= 0);
    assert.deepEqual(resp.data.raw, call.response);
  });

  test('a streaming call with include_usage: the same chunks, recorded whole', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stream me five words please' }],
      stream: true, stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const call = upstream.calls.at(-1);
    assert.deepEqual(chunks, call.chunks);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'echo: stream me five words please');
    assert.ok(chunks.length >= 5, 'the answer came as several chunks');
    const usage = usageFor(call.body, text);
    assert.deepEqual(chunks.at(-1).usage, usage);

    const events = await srv.waitForEvents(
      { run: 'r1' }, (es) => es.filter((e) => e.type === 'llm.response').length >= 2);
    assert.deepEqual(types(events).slice(6), ['llm.request', 'llm.response'],
                     'the run and task already exist: only the call is recorded');
    const [req, resp] = events.slice(6);
    assert.equal(req.data.stream, true);
    assert.deepEqual(req.data.params.stream_options, { include_usage: true });
    assert.equal(resp.data.call_id, req.data.call_id);
    assert.equal(resp.data.content, text);
    assert.equal(resp.data.finish_reason, 'stop');
    assert.equal(resp.data.input_tokens, usage.prompt_tokens);
    assert.equal(resp.data.output_tokens, usage.completion_tokens);
    assert.equal(resp.data.cached_tokens, usage.prompt_tokens_details.cached_tokens);
    assert.equal(resp.data.status, 200);
    assert.equal(typeof resp.data.ttft_ms, 'number');
    assert.ok(resp.data.ttft_ms >= 0 && resp.data.ttft_ms <= resp.data.latency_ms,
              `ttft_ms ${resp.data.ttft_ms} within latency_ms ${resp.data.latency_ms}`);
    assert.deepEqual(resp.data.raw, call.chunks);
  });

  test('a stream is passed through chunk by chunk, not buffered', async () => {
    upstream.resetGate();
    // The upstream holds the rest of the answer until the client has seen its first words: a
    // proxy that waited for the whole answer would see the gate open only by its 10 s timeout.
    const stream = await client.chat.completions.create({
      model: 'gated', messages: [{ role: 'user', content: 'one two three' }], stream: true,
    });
    let text = '';
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta?.content ?? '';
      text += piece;
      if (piece !== '') upstream.releaseGate();
    }
    assert.equal(upstream.gate.releasedBy, 'client');
    assert.equal(text, 'echo: one two three');
  });

  test('the model prefix NAME/ picks the upstream and is stripped', async () => {
    const res = await client.chat.completions.create({
      model: 'fake/gpt-4o', messages: [{ role: 'user', content: 'prefixed' }] });
    assert.equal(res.choices[0].message.content, 'echo: prefixed');
    assert.equal(upstream.calls.at(-1).body.model, 'gpt-4o');
  });

  test('X-Tinkerbell-Token: the client\'s own key goes upstream as is; a run per key', async () => {
    const own = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0,
                             timeout: 30000, defaultHeaders: { 'X-Tinkerbell-Token': srv.token } });
    const res = await own.chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'my own key' }] });
    assert.equal(res.choices[0].message.content, 'echo: my own key');
    const call = upstream.calls.at(-1);
    assert.equal(call.headers.authorization, `Bearer ${CLIENT_KEY}`);
    assert.ok(!JSON.stringify(call.headers).includes(srv.token));

    // No X-Tinkerbell-Run: the run is llm- and 12 hex digits derived from the key.
    const started = await srv.waitForEvents({ type: 'run.started' },
                                            (es) => es.some((e) => e.run !== 'r1'));
    const runs = started.map((e) => e.run).filter((r) => r !== 'r1');
    assert.equal(runs.length, 1);
    assert.match(runs[0], /^llm-[0-9a-f]{12}$/);
    const events = await srv.waitForEvents({ run: runs[0] },
                                           (es) => es.some((e) => e.type === 'llm.response'));
    const resp = events.find((e) => e.type === 'llm.response');
    assert.equal(resp.data.content, 'echo: my own key');
  });

  test('an upstream 429 is the SDK\'s RateLimitError and an llm.error', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'fail-429',
                                       messages: [{ role: 'user', content: 'too many' }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, 429);
        assert.equal(err.code, 'rate_limit_exceeded');
        assert.equal(err.error.message, upstream.calls.at(-1).error.error.message);
        return true;
      });
    const events = await srv.waitForEvents({ run: 'r1', type: 'llm.error' },
                                           (es) => es.length >= 1);
    assert.equal(events.length, 1);
    const e = events[0];
    assert.equal(e.data.model, 'fail-429');
    assert.equal(e.data.status, 429);
    assert.equal(e.data.provider, 'fake');
    assert.equal(typeof e.data.error, 'string');
    assert.ok(e.data.error.length > 0);
    assert.deepEqual(e.data.raw, upstream.calls.at(-1).error);
    const requests = await srv.events({ run: 'r1', type: 'llm.request' });
    assert.ok(requests.some((r) => r.data.call_id === e.data.call_id && r.data.model === 'fail-429'),
              'the failed call has its llm.request');
  });

  test('an unreachable upstream is a 502 and an llm.error', async () => {
    await assert.rejects(
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'anyone?' }] },
        { headers: { 'X-Tinkerbell-Upstream': 'dead' } }),
      (err) => {
        assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, 502);
        return true;
      });
    const events = await srv.waitForEvents(
      { run: 'r1', type: 'llm.error' }, (es) => es.some((e) => e.data.provider === 'dead'));
    const e = events.find((x) => x.data.provider === 'dead');
    assert.equal(e.data.status, 502);
    assert.equal(e.data.model, 'gpt-4o-mini');
    assert.ok(e.data.error.length > 0);
  });

  test('no secret is stored: not the token, not the upstream key, not the client key', async () => {
    assert.equal(await srv.stop(), 0);
    const log = JSON.stringify(await logJson(store));
    assert.ok(log.includes('echo: hello there proxy'), 'the log holds the calls');
    for (const secret of [srv.token, UPSTREAM_KEY, CLIENT_KEY]) {
      assert.ok(!log.includes(secret), `tink log --json shows a secret (${secret.slice(0, 8)}...)`);
      // Every file of the store as bytes; STORE/token is where the token belongs.
      assert.deepEqual(await filesContaining(store, secret, ['token']), [],
                       `a store file holds a secret (${secret.slice(0, 8)}...)`);
    }
    // The search itself finds what is there: the token file holds the token, and the log's
    // segments hold the recorded prompt as plain bytes.
    assert.deepEqual(await filesContaining(store, srv.token), ['token']);
    assert.ok((await filesContaining(store, 'hello there proxy')).length > 0);
  });
});
