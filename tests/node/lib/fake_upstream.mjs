// An OpenAI-compatible upstream for the proxy tests, on 127.0.0.1 with a kernel-chosen port
// (node:http). `POST /v1/chat/completions` answers deterministically, so a replay can be compared
// with the recording:
//   - non-streaming: a `chat.completion` whose content is "echo: " + the last user message;
//   - `stream: true`: SSE `chat.completion.chunk`s (the role, then the answer word by word, then
//     the finish reason), a few milliseconds apart, a final usage chunk when
//     `stream_options.include_usage`, then `data: [DONE]`;
//   - model `fail-429`: HTTP 429 with an OpenAI error body;
//   - model `gated`: streams the first content chunk, then waits until releaseGate() is called
//     (or 10 s pass: `gate.releasedBy` then says 'timeout'), so a test can show the proxy
//     passes chunks through as they arrive instead of buffering the answer.
// Every request is kept in `calls` ({method, url, headers, body, response | chunks | error}).
import http from 'node:http';

const CREATED = 1767225600;  // fixed, so answers are reproducible

function words(text) {
  return String(text ?? '').split(/\s+/).filter((w) => w !== '').length;
}

function messageText(message) {
  if (typeof message?.content === 'string') return message.content;
  if (Array.isArray(message?.content)) {
    return message.content.map((part) => part?.text ?? '').join(' ');
  }
  return '';
}

// Token counts derived from the request, so they are the same on every run.
export function usageFor(body, answer) {
  const prompt = (body.messages ?? []).reduce((n, m) => n + words(messageText(m)) + 3, 0);
  const completion = words(answer) + 1;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Math.floor(prompt / 2), audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

export function answerFor(body) {
  const users = (body.messages ?? []).filter((m) => m.role === 'user');
  return 'echo: ' + messageText(users[users.length - 1]);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFakeUpstream({ chunkDelayMs = 5 } = {}) {
  const calls = [];
  let counter = 0;
  const gate = { releasedBy: null, release: null, promise: null };
  const resetGate = () => {
    gate.releasedBy = null;
    gate.promise = new Promise((resolve) => {
      gate.release = (who) => {
        if (gate.releasedBy === null) gate.releasedBy = who;
        resolve();
      };
    });
  };
  resetGate();

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    const call = { method: req.method, url: req.url, headers: req.headers, rawBody: raw };
    calls.push(call);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`,
                                        type: 'invalid_request_error', code: 'not_found' } }));
      return;
    }
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'body is not JSON', type: 'invalid_request_error' } }));
      return;
    }
    call.body = body;
    const n = ++counter;
    const id = `chatcmpl-fake-${n}`;
    const model = String(body.model ?? '');

    if (model === 'fail-429') {
      const error = { error: { message: 'Rate limit reached for fake-model in organization org-test.',
                               type: 'requests', param: null, code: 'rate_limit_exceeded' } };
      call.error = error;
      res.writeHead(429, { 'content-type': 'application/json', 'x-request-id': `req_${n}` });
      res.end(JSON.stringify(error));
      return;
    }

    const answer = answerFor(body);
    const usage = usageFor(body, answer);
    if (!body.stream) {
      const response = {
        id, object: 'chat.completion', created: CREATED, model: `${model}-2025-01-01`,
        choices: [{ index: 0, message: { role: 'assistant', content: answer, refusal: null },
                    logprobs: null, finish_reason: 'stop' }],
        usage, system_fingerprint: 'fp_fake',
      };
      call.response = response;
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${n}` });
      res.end(JSON.stringify(response));
      return;
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const base = { id, object: 'chat.completion.chunk', created: CREATED,
                   model: `${model}-2025-01-01`, system_fingerprint: 'fp_fake' };
    const withUsage = (chunk) => (includeUsage ? { ...chunk, usage: null } : chunk);
    const sent = [];
    call.chunks = sent;
    const send = (chunk) => {
      sent.push(chunk);
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache',
                         'x-request-id': `req_${n}` });
    send(withUsage({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' },
                                          logprobs: null, finish_reason: null }] }));
    const pieces = answer.split(/(?<= )/);
    for (let i = 0; i < pieces.length; i++) {
      await sleep(chunkDelayMs);
      send(withUsage({ ...base, choices: [{ index: 0, delta: { content: pieces[i] },
                                            logprobs: null, finish_reason: null }] }));
      if (i === 0 && model === 'gated') {
        const timer = setTimeout(() => gate.release('timeout'), 10000);
        await gate.promise;
        clearTimeout(timer);
      }
    }
    await sleep(chunkDelayMs);
    send(withUsage({ ...base, choices: [{ index: 0, delta: {}, logprobs: null,
                                          finish_reason: 'stop' }] }));
    if (includeUsage) send({ ...base, choices: [], usage });
    res.write('data: [DONE]\n\n');
    res.end();
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    gate,
    releaseGate: () => gate.release('client'),
    resetGate,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
