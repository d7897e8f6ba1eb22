// Hermetic replay (issue 15, docs/replay.md) driven by the official OpenAI Node SDK: a run of
// three calls (streaming and not) is recorded through the proxy; then the upstream is gone and
// `tink serve --replay r1` answers the same three calls from the log, as a new run linked to
// r1; a changed prompt is a 409 replay_divergence at the right position, recorded as an event;
// and the /replay/RUN/v1 prefix does the same on a daemon that is not in replay mode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import OpenAI from 'openai';

import { startFakeUpstream } from './lib/fake_upstream.mjs';
import { closedPort, tempDir, TinkServer, types } from './lib/tink.mjs';

const QUESTIONS = ['what is the capital of France', 'and of Italy', 'which is bigger'];

// The agent: three calls, each with the conversation so far; the 2nd one streams. `change`
// replaces the prompt of one call (by index) to make the re-run diverge there.
async function runAgent(client, { change = {} } = {}) {
  const conversation = [{ role: 'system', content: 'You are a geography bot.' }];
  const answers = [];
  for (let i = 0; i < QUESTIONS.length; i++) {
    conversation.push({ role: 'user', content: change[i] ?? QUESTIONS[i] });
    let text;
    if (i === 1) {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini', messages: [...conversation], temperature: 0.2, stream: true,
        stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      answers.push({ stream: true, chunks });
      text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    } else {
      const res = await client.chat.completions.create({
        model: 'gpt-4o-mini', messages: [...conversation], temperature: 0.2, seed: 7 });
      answers.push({ stream: false, response: res });
      text = res.choices[0].message.content;
    }
    conversation.push({ role: 'assistant', content: text });
  }
  return answers;
}

const sdk = (baseURL, token, headers = {}) =>
  new OpenAI({ baseURL, apiKey: token, maxRetries: 0, timeout: 30000, defaultHeaders: headers });

describe('replay of a recorded run through the OpenAI SDK', { timeout: 170000 }, () => {
  let upstream;
  let tmp;
  let store;
  let recorded;  // the answers of the recording
  let srv;       // the current daemon

  before(async () => {
    upstream = await startFakeUpstream();
    tmp = await tempDir();
    store = path.join(tmp.dir, 'store');
  });

  after(async () => {
    if (srv) await srv.kill();
    if (upstream) await upstream.close();
    if (tmp) await tmp.cleanup();
  });

  test('record run r1: three calls through the proxy', async () => {
    srv = await TinkServer.start({ store, args: ['--llm-upstream', `fake=${upstream.url}`] });
    recorded = await runAgent(sdk(`${srv.url}/v1`, srv.token, { 'X-Tinkerbell-Run': 'r1' }));
    assert.equal(upstream.calls.length, 3);
    assert.deepEqual(recorded[0].response, upstream.calls[0].response);
    assert.deepEqual(recorded[1].chunks, upstream.calls[1].chunks);
    assert.deepEqual(recorded[2].response, upstream.calls[2].response);
    assert.equal(recorded[2].response.choices[0].message.content, 'echo: which is bigger');
    await srv.waitForEvents({ run: 'r1', type: 'llm.response' }, (es) => es.length === 3);
    assert.equal(await srv.stop(), 0);
    await upstream.close();
    upstream = null;
  });

  test('tink serve --replay r1 answers the same calls with no upstream, as a new run', async () => {
    srv = await TinkServer.start({ store, args: ['--replay', 'r1'] });
    const again = await runAgent(sdk(`${srv.url}/v1`, srv.token));
    assert.deepEqual(again[0].response, recorded[0].response);
    assert.equal(again[1].stream, true);
    assert.ok(again[1].chunks.length >= 5, 'the streamed answer is replayed as a stream');
    assert.deepEqual(again[1].chunks, recorded[1].chunks);
    assert.deepEqual(again[2].response, recorded[2].response);

    // The re-run: one new run whose run.started says what it replays, with the calls recorded.
    const started = await srv.waitForEvents(
      { type: 'run.started' }, (es) => es.some((e) => e.data?.meta?.replay_of === 'r1'));
    const reruns = started.filter((e) => e.data?.meta?.replay_of === 'r1');
    assert.equal(reruns.length, 1);
    const rerun = reruns[0].run;
    assert.match(rerun, /^r1-replay-\d+$/);
    assert.equal(reruns[0].stream, `run/${rerun}`);
    const events = await srv.waitForEvents(
      { run: rerun }, (es) => es.filter((e) => e.type === 'llm.response').length === 3);
    const calls = events.filter((e) => e.type.startsWith('llm.'));
    assert.deepEqual(types(calls), ['llm.request', 'llm.response', 'llm.request', 'llm.response',
                                    'llm.request', 'llm.response']);
    assert.deepEqual(calls.map((e) => e.data.stream).filter((s) => s !== undefined),
                     [false, true, false]);
    assert.deepEqual(calls[3].data.raw, recorded[1].chunks);
    assert.equal(calls[5].data.content, 'echo: which is bigger');

    // The recording is untouched: still three calls on r1.
    const original = await srv.events({ run: 'r1', type: 'llm.response' });
    assert.equal(original.length, 3);
  });

  test('a changed 2nd prompt: 409 replay_divergence at position 1, recorded', async () => {
    const client = sdk(`${srv.url}/v1`, srv.token, { 'X-Tinkerbell-Run': 'r1-div' });
    const changed = 'and of Spain';
    await assert.rejects(runAgent(client, { change: { 1: changed } }), (err) => {
      assert.ok(err instanceof OpenAI.ConflictError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 409);
      assert.equal(err.code, 'replay_divergence');
      assert.equal(err.error.position, 1);
      assert.ok(Array.isArray(err.error.differences) && err.error.differences.length > 0);
      return true;
    });

    const events = await srv.waitForEvents(
      { run: 'r1-div' }, (es) => es.some((e) => e.type === 'replay.divergence'));
    const started = events.find((e) => e.type === 'run.started');
    assert.equal(started.data.meta.replay_of, 'r1');
    // The first call matched and was answered; the divergence comes after it.
    const responses = events.filter((e) => e.type === 'llm.response');
    assert.equal(responses.length, 1);
    assert.deepEqual(responses[0].data.raw, recorded[0].response);

    const div = events.filter((e) => e.type === 'replay.divergence');
    assert.equal(div.length, 1);
    assert.equal(div[0].stream, 'run/r1-div');
    const d = div[0].data;
    assert.equal(d.original, 'r1');
    assert.equal(d.position, 1);
    assert.equal(d.endpoint, '/v1/chat/completions');
    assert.equal(typeof d.reason, 'string');
    assert.ok(d.request, 'the divergent request is recorded');
    assert.ok(JSON.stringify(d.request).includes(changed));
    assert.ok(d.closest, 'the closest recorded request is named');
    assert.equal(d.closest.position, 1);
    const underMessages = d.differences.filter((x) => String(x.path).startsWith('/messages'));
    assert.ok(underMessages.length > 0, `differences: ${JSON.stringify(d.differences)}`);
    assert.ok(underMessages.some((x) => JSON.stringify(x.actual).includes(changed) &&
                                        JSON.stringify(x.recorded).includes('and of Italy')),
              `differences: ${JSON.stringify(d.differences)}`);
    assert.equal(await srv.stop(), 0);
  });

  test('/replay/r1/v1 on a daemon that is not in replay mode serves the recording', async () => {
    // Its only upstream is unreachable: every answer below comes from the log.
    const dead = await closedPort();
    srv = await TinkServer.start({ store, args: ['--llm-upstream', `fake=http://127.0.0.1:${dead}/v1`] });
    const again = await runAgent(sdk(`${srv.url}/replay/r1/v1`, srv.token,
                                     { 'X-Tinkerbell-Run': 'r1-prefix' }));
    assert.deepEqual(again[0].response, recorded[0].response);
    assert.deepEqual(again[1].chunks, recorded[1].chunks);
    assert.deepEqual(again[2].response, recorded[2].response);
    const events = await srv.waitForEvents(
      { run: 'r1-prefix' }, (es) => es.filter((e) => e.type === 'llm.response').length === 3);
    assert.equal(events.find((e) => e.type === 'run.started').data.meta.replay_of, 'r1');
    assert.equal(events.filter((e) => e.type === 'llm.error').length, 0);
    assert.equal(await srv.stop(), 0);
  });
});
