// A tiny OTLP/HTTP receiver for the tests: keeps every request's headers and raw body and
// answers 200 with an empty ExportTraceServiceResponse in the request's content type.
import http from 'node:http';

export async function startCaptureServer() {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    requests.push({ method: req.method, url: req.url, headers: req.headers,
                    body: Buffer.concat(chunks) });
    const type = req.headers['content-type'] ?? 'application/json';
    if (type.startsWith('application/x-protobuf')) {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
