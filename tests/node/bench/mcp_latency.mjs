// MCP call latency (issue 17's closing note; not a test: no assertion on time): N `query` calls
// through the official SDK client over stdio (`tink mcp --store S`) and over Streamable HTTP
// (`tink serve`'s /mcp), each answered and recorded (a tool.call + tool.result append, fsync'd
// with the default --sync always). Prints median and p99 per transport.
//   TINK_BIN=build/shell/tink node tests/node/bench/mcp_latency.mjs STORE [N] [QUERY]
// STORE must exist (e.g. made by scripts/demo) and not be held by a daemon.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { tinkBin, TinkServer } from '../lib/tink.mjs';

const [store, n = '200', query = "tasks | where run == 'basic' | select id, state"] =
  process.argv.slice(2);
if (!store) {
  console.error('usage: mcp_latency.mjs STORE [N] [QUERY]');
  process.exit(1);
}

async function measure(label, transport) {
  const client = new Client({ name: 'mcp-latency', version: '1.0.0' });
  await client.connect(transport);
  const times = [];
  for (let i = 0; i < Number(n) + 10; i++) {
    const t0 = process.hrtime.bigint();
    const res = await client.callTool({ name: 'query', arguments: { query } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.isError) throw new Error(JSON.stringify(res.content));
    if (i >= 10) times.push(ms);  // the first 10 warm up
  }
  await client.close();
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(`${label}: ${times.length} calls, median ${at(0.5).toFixed(2)} ms, ` +
              `p99 ${at(0.99).toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`);
}

await measure('stdio (tink mcp --store)', new StdioClientTransport({
  command: tinkBin(), args: ['mcp', '--store', store], stderr: 'ignore' }));
const srv = await TinkServer.start({ store });
try {
  await measure('http (POST /mcp)', new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${srv.token}` } } }));
  await measure('stdio via daemon (tink mcp --server)', new StdioClientTransport({
    command: tinkBin(), args: ['mcp', '--server', srv.url, '--store', store], stderr: 'ignore' }));
} finally {
  await srv.stop();
}
