// OTLP/HTTP trace ingestion (`POST /v1/traces`, issue 15) fed by the real OpenTelemetry JS SDK:
// GenAI spans (an invoke_agent root, two chat spans, an execute_tool span) exported with the
// http/JSON and the http/protobuf exporters become the run/task/llm/tool events of the trace's
// run; children sent before their root and the root sent first give the same events; a batch
// sent twice adds nothing; and the events are the ones `tink import --format otlp` makes from
// the same spans in a file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import { startCaptureServer } from './lib/capture_server.mjs';
import { exportGenAiTrace, recordingExporter, SPAN_IDS, traceIdFor } from './lib/genai_trace.mjs';
import { logJson, tempDir, TinkServer, tinkCli, types } from './lib/tink.mjs';

// The mapped events (all but the raw otel.span ones) as {type, stream, data} with the run id
// replaced by RUN and run.started's meta left out, sorted: what must be equal between two
// ingestions of the same spans, whatever order they arrived in. `startedFromRoot` also leaves
// out run.started's task and model, which the mapping takes from the first LLM call: a root
// that arrives before its calls is written without them (docs/http.md, POST /v1/traces).
function comparable(events, run, { startedFromRoot = false } = {}) {
  return events
    .filter((e) => e.type !== 'otel.span')
    .map((e) => {
      const data = structuredClone(e.data ?? {});
      if (e.type === 'run.started') delete data.meta;
      if (e.type === 'run.started' && startedFromRoot) {
        delete data.task;
        delete data.model;
      }
      return JSON.stringify({ type: e.type, stream: e.stream, data }).replaceAll(run, 'RUN');
    })
    .sort();
}

const isDone = (es) => es.some((e) => e.type === 'run.finished') &&
                       es.filter((e) => e.type === 'llm.response').length === 2 &&
                       es.some((e) => e.type === 'tool.result');

describe('OpenTelemetry JS SDK exporting GenAI spans to tink serve', { timeout: 170000 }, () => {
  let tmp;
  let store;
  let srv;
  let jsonRun;  // the events of the first trace, to compare the others with

  before(async () => {
    tmp = await tempDir();
    store = path.join(tmp.dir, 'store');
    srv = await TinkServer.start({ store });
  });

  after(async () => {
    if (srv) await srv.kill();
    if (tmp) await tmp.cleanup();
  });

  const exporterOptions = () => ({ url: `${srv.url}/v1/traces`, headers: srv.authHeaders(),
                                   timeoutMillis: 20000 });

  test('http/JSON, children first: the run of the trace id, its tasks, calls and tool', async () => {
    const traceId = traceIdFor(1);
    const exporter = recordingExporter(new JsonExporter(exporterOptions()));
    await exportGenAiTrace(exporter, { traceId });
    assert.deepEqual(exporter.results.map((r) => [r.code, r.error?.message]),
                     [[0, undefined], [0, undefined], [0, undefined], [0, undefined]]);

    const events = await srv.waitForEvents({ run: traceId }, isDone);
    jsonRun = events;
    const spans = (await srv.events({ stream: `otel/${traceId}` }))
      .filter((e) => e.type === 'otel.span');
    assert.equal(spans.length, 4, 'each span is stored raw once');

    const agent = `run/${traceId}/task/agent`;
    const toolStream = `run/${traceId}/task/${SPAN_IDS.tool}`;
    const started = events.filter((e) => e.type === 'run.started');
    assert.equal(started.length, 1);
    assert.equal(started[0].stream, `run/${traceId}`);
    assert.equal(started[0].data.agent, 'weather-agent');
    const finished = events.filter((e) => e.type === 'run.finished');
    assert.equal(finished.length, 1);
    assert.equal(finished[0].data.status, 'succeeded');

    const onAgent = events.filter((e) => e.stream === agent);
    for (const t of ['task.created', 'task.ready', 'task.started', 'task.succeeded']) {
      assert.equal(onAgent.filter((e) => e.type === t).length, 1, `one ${t} on task agent`);
    }
    const requests = onAgent.filter((e) => e.type === 'llm.request');
    const responses = onAgent.filter((e) => e.type === 'llm.response');
    assert.deepEqual(requests.map((e) => e.data.call_id), [SPAN_IDS.chat1, SPAN_IDS.chat2]);
    assert.deepEqual(responses.map((e) => e.data.call_id), [SPAN_IDS.chat1, SPAN_IDS.chat2]);
    assert.equal(requests[0].data.model, 'gpt-4o');
    assert.ok(JSON.stringify(requests[0].data.messages).includes('Weather in Paris?'));
    assert.deepEqual(responses.map((e) => [e.data.input_tokens, e.data.output_tokens]),
                     [[20, 8], [40, 10]]);
    assert.deepEqual(responses.map((e) => e.data.provider), ['openai', 'openai']);
    assert.ok(JSON.stringify(responses[0].data).includes('get_weather'));
    assert.ok(JSON.stringify(responses[1].data.content).includes('It is sunny and 21 C in Paris.'));

    const onTool = events.filter((e) => e.stream === toolStream);
    assert.deepEqual(types(onTool), ['task.created', 'task.ready', 'task.started', 'tool.call',
                                     'tool.result', 'task.succeeded']);
    assert.equal(onTool[0].data.parent, 'agent');
    assert.equal(onTool[3].data.tool, 'get_weather');
    assert.deepEqual(onTool[3].data.args, { city: 'Paris' });
    assert.equal(onTool[4].data.tool, 'get_weather');
    assert.ok(JSON.stringify(onTool[4].data.output).includes('sunny'));
    assert.notEqual(onTool[4].data.ok, false);
  });

  test('http/protobuf with gzip: the same events in its own trace', async () => {
    const traceId = traceIdFor(2);
    const exporter = recordingExporter(new ProtoExporter({ ...exporterOptions(),
                                                           compression: 'gzip' }));
    await exportGenAiTrace(exporter, { traceId });
    assert.deepEqual(exporter.results.map((r) => r.code), [0, 0, 0, 0]);
    const events = await srv.waitForEvents({ run: traceId }, isDone);
    assert.deepEqual(comparable(events, traceId), comparable(jsonRun, traceIdFor(1)));
  });

  test('parent first (the root exported before its children): the same events', async () => {
    const traceId = traceIdFor(3);
    const exporter = recordingExporter(new JsonExporter(exporterOptions()));
    await exportGenAiTrace(exporter, { traceId, order: 'parent-first' });
    assert.deepEqual(exporter.results.map((r) => r.code), [0, 0, 0, 0]);
    const events = await srv.waitForEvents({ run: traceId }, isDone);
    const opts = { startedFromRoot: true };
    assert.deepEqual(comparable(events, traceId, opts), comparable(jsonRun, traceIdFor(1), opts));
    // What the root itself says is there: its name, its agent.
    const started = events.find((e) => e.type === 'run.started');
    assert.equal(started.data.agent, 'weather-agent');
    assert.equal(started.data.name, 'invoke_agent weather-agent');
  });

  test('the resource attribute tinkerbell.run names the run', async () => {
    const traceId = traceIdFor(4);
    const exporter = recordingExporter(new ProtoExporter(exporterOptions()));
    await exportGenAiTrace(exporter, { traceId, resource: { 'tinkerbell.run': 'weather-7' } });
    assert.deepEqual(exporter.results.map((r) => r.code), [0, 0, 0, 0]);
    const events = await srv.waitForEvents({ run: 'weather-7' }, isDone);
    assert.deepEqual(comparable(events, 'weather-7'), comparable(jsonRun, traceIdFor(1)));
    assert.equal((await srv.events({ run: traceId })).filter((e) => e.type !== 'otel.span').length,
                 0, 'nothing mapped under the trace id');
  });

  test('re-sent batches add nothing; the events equal tink import of the same spans', async () => {
    const traceId = traceIdFor(5);
    // Capture the exporter's request bodies, then send them ourselves, twice.
    const capture = await startCaptureServer();
    try {
      const exporter = recordingExporter(new JsonExporter({ url: capture.url }));
      await exportGenAiTrace(exporter, { traceId });
    } finally {
      await capture.close();
    }
    const bodies = capture.requests.map((r) => r.body);
    assert.equal(bodies.length, 4);
    const post = async (body) => {
      const res = await fetch(`${srv.url}/v1/traces`, {
        method: 'POST', body,
        headers: srv.authHeaders({ 'Content-Type': 'application/json' }) });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      return JSON.parse(text);
    };
    for (const body of bodies) await post(body);
    const first = await srv.waitForEvents({ run: traceId }, isDone);
    const lastLsn = (await srv.stats()).last_lsn;

    for (const body of bodies) await post(body);
    await post(bodies[3]);  // the root alone, once more
    // An event appended after the re-sends lands right after the last LSN: they added nothing.
    const marker = await fetch(`${srv.url}/v1/events`, {
      method: 'POST', headers: srv.authHeaders({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ stream: 'test/marker', type: 'test.marker', data: {} }) });
    assert.equal(marker.status, 200);
    assert.equal((await marker.json()).first_lsn, lastLsn + 1);
    assert.deepEqual(await srv.events({ run: traceId }), first);

    // The same spans from a file (JSON lines of ExportTraceServiceRequest), into another store.
    const file = path.join(tmp.dir, 'trace5.otlp.jsonl');
    await writeFile(file, bodies.map((b) => JSON.stringify(JSON.parse(b.toString('utf8'))))
      .join('\n') + '\n');
    const importStore = path.join(tmp.dir, 'import-store');
    const imported = await tinkCli(['import', '--format', 'otlp', '--run', traceId, '--store',
                                    importStore, file]);
    assert.equal(imported.code, 0, `tink import: ${imported.stderr}`);
    const fromFile = (await logJson(importStore)).filter((e) => e.run === traceId);
    assert.ok(fromFile.length > 0);
    assert.deepEqual(comparable(first, traceId), comparable(fromFile, traceId));
  });
});
