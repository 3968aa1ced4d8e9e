// A loopback HTTP proxy in front of the sandbox wallet that cuts the body of the next N answers on a path short:
// alternately by closing the socket under a Content-Length it never fulfils, and by ending a chunked answer cleanly
// halfway through its JSON. The wallet has done the work; only the answer is damaged, as on a flaky link.
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TruncatingProxy {
  url: string;
  /** How many answers were cut so far. */
  readonly truncated: number;
  close(): Promise<void>;
}

export async function startTruncatingProxy(
  target: string,
  pathPrefix: string,
  count: number,
): Promise<TruncatingProxy> {
  let left = count;
  let truncated = 0;
  const server = createServer((req, res) => {
    const cut = left > 0 && (req.url ?? '').startsWith(pathPrefix);
    if (cut) left -= 1;
    forward(target, req, res, cut ? (truncated++ % 2 === 0 ? 'reset' : 'short-json') : null);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get truncated() {
      return truncated;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(
  target: string,
  req: IncomingMessage,
  res: ServerResponse,
  cut: 'reset' | 'short-json' | null,
): void {
  const upstream = request(
    new URL(req.url ?? '/', target),
    { method: req.method, headers: req.headers },
    (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        const half = body.subarray(0, Math.floor(body.length / 2));
        const headers = { 'content-type': answer.headers['content-type'] ?? 'application/json' };
        if (cut === 'reset') {
          res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': body.length });
          res.write(half, () => res.destroy());
        } else if (cut === 'short-json') {
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(half);
        } else {
          res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': body.length });
          res.end(body);
        }
      });
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}
