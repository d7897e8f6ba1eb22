// One agent run as OpenTelemetry GenAI spans (semantic conventions: invoke_agent, chat,
// execute_tool), made with the real OpenTelemetry JS SDK and exported by a real OTLP exporter.
// Ids and times are fixed (a custom IdGenerator, explicit start/end times), so two exports of
// the trace differ only in the trace id, and their mapped events can be compared.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

export const T0_MS = 1767225600000;  // 2026-01-01T00:00:00Z

// The span ids, in start order: the root, the first chat, the tool, the second chat.
export const SPAN_IDS = {
  root: 'b0b0b0b0b0b0b001',
  chat1: 'b0b0b0b0b0b0b002',
  tool: 'b0b0b0b0b0b0b003',
  chat2: 'b0b0b0b0b0b0b004',
};

export function traceIdFor(n) {
  return `7ace${String(n).padStart(4, '0')}` + 'c0ffee00'.repeat(3);
}

const messages = (list) => JSON.stringify(list);

export const ATTRS = {
  root: {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'weather-agent',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    // The run's input and output, as an invoke_agent span may carry them (the mapping takes
    // run.started's task from the first LLM call's input instead).
    'gen_ai.input.messages': messages([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
    ]),
    'gen_ai.output.messages': messages([
      { role: 'assistant', finish_reason: 'stop',
        parts: [{ type: 'text', content: 'It is sunny and 21 C in Paris.' }] },
    ]),
  },
  chat1: {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.response.id': 'chatcmpl-1',
    'gen_ai.response.finish_reasons': ['tool_calls'],
    'gen_ai.usage.input_tokens': 20,
    'gen_ai.usage.output_tokens': 8,
    'gen_ai.input.messages': messages([
      { role: 'system', parts: [{ type: 'text', content: 'You report the weather.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
    ]),
    'gen_ai.output.messages': messages([
      { role: 'assistant', finish_reason: 'tool_call',
        parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather',
                  arguments: { city: 'Paris' } }] },
    ]),
  },
  tool: {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'get_weather',
    'gen_ai.tool.type': 'function',
    'gen_ai.tool.call.id': 'call_1',
    'gen_ai.tool.call.arguments': '{"city":"Paris"}',
    'gen_ai.tool.call.result': '{"temp_c":21,"sky":"sunny"}',
  },
  chat2: {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.response.id': 'chatcmpl-2',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 40,
    'gen_ai.usage.output_tokens': 10,
    'gen_ai.input.messages': messages([
      { role: 'system', parts: [{ type: 'text', content: 'You report the weather.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather',
                                     arguments: { city: 'Paris' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1',
                                response: { temp_c: 21, sky: 'sunny' } }] },
    ]),
    'gen_ai.output.messages': messages([
      { role: 'assistant', finish_reason: 'stop',
        parts: [{ type: 'text', content: 'It is sunny and 21 C in Paris.' }] },
    ]),
  },
};

// Wraps an exporter and keeps every export's result, so a test can assert that each request
// was accepted (code 0 = ExportResultCode.SUCCESS).
export function recordingExporter(inner) {
  const results = [];
  return {
    results,
    export(spans, done) {
      inner.export(spans, (result) => {
        results.push(result);
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

// Exports the run as trace `traceId` through `exporter`, one span per export request
// (SimpleSpanProcessor exports each span when it ends, and the next span ends after that
// export finished). order 'children-first' ends the spans as an agent does (the root last);
// 'parent-first' ends the root first. Resolves after the exports finished and the provider is
// shut down.
export async function exportGenAiTrace(exporter, { traceId, order = 'children-first',
                                                   resource = {} }) {
  let next = 0;
  const ids = Object.values(SPAN_IDS);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'weather-agent', ...resource }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    idGenerator: { generateTraceId: () => traceId, generateSpanId: () => ids[next++] },
  });
  const tracer = provider.getTracer('tinkerbell-node-tests', '1.0.0');
  const at = (ms) => T0_MS + ms;

  const root = tracer.startSpan('invoke_agent weather-agent',
                                { kind: SpanKind.INTERNAL, startTime: at(0), attributes: ATTRS.root },
                                ROOT_CONTEXT);
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const chat1 = tracer.startSpan('chat gpt-4o', { kind: SpanKind.CLIENT, startTime: at(10),
                                                  attributes: ATTRS.chat1 }, ctx);
  const tool = tracer.startSpan('execute_tool get_weather',
                                { kind: SpanKind.INTERNAL, startTime: at(200), attributes: ATTRS.tool },
                                ctx);
  const chat2 = tracer.startSpan('chat gpt-4o', { kind: SpanKind.CLIENT, startTime: at(300),
                                                  attributes: ATTRS.chat2 }, ctx);
  for (const s of [root, chat1, tool, chat2]) s.setStatus({ code: SpanStatusCode.OK });

  const ends = [[chat1, at(150)], [tool, at(250)], [chat2, at(500)], [root, at(600)]];
  if (order === 'parent-first') ends.unshift(ends.pop());
  // One span at a time: each export request is answered before the next span ends, so the
  // receiver gets them in this order.
  for (const [span, time] of ends) {
    span.end(time);
    await provider.forceFlush();
  }
  await provider.shutdown();
}
