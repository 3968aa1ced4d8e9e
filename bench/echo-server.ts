// The ceiling of the HTTP stack: a bare Express 5 server that parses a JSON body and sends it back, with nothing
// else — no auth, no validation, no SQLite. bench/offline-throughput.ts drives it like the gateway, in the same run;
// bench/startup.ts times its GET /readyz as the floor of any Node + Express process's start-up.
// Prints {url} as one JSON line, closes on SIGTERM.
// Usage: node dist/bench/echo-server.js [--port 0]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import express from 'express';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: 16_384 }));
app.get('/readyz', (_req, res) => {
  res.json({ ready: true });
});
app.post('/echo', (req, res) => {
  res.status(201).json(req.body);
});

const server = createServer({ keepAliveTimeout: 5_000 }, app);
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
