// Open-loop load at a fixed rate: request i is sent at start + i/rate whether or not earlier ones have answered (a
// keep-alive agent opens more sockets as needed), so a slow answer never delays the next send. Each latency is
// measured with performance.now() from the send to the end of the answer, to the microsecond — autocannon's
// histogram keeps whole milliseconds, too coarse for a 2 ms target.
import { Agent, request } from 'node:http';

export interface TimedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface OpenLoopResult {
  /** ms, one per request that passed the check. */
  latencies: number[];
  failed: number;
  firstFailure?: string;
  /** How late the sends were against the schedule, p99 ms (the driver's own lag). */
  sendLagP99Ms: number;
}

export const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** Sends `count` requests at `ratePerSec`; `make(i)` builds request i just before it is sent. */
export async function openLoop(
  ratePerSec: number,
  count: number,
  make: (i: number) => TimedRequest,
  ok: (status: number, body: string) => boolean,
): Promise<OpenLoopResult> {
  const latencies: number[] = [];
  const lags: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  const pending: Promise<void>[] = [];
  const intervalMs = 1000 / ratePerSec;
  const start = performance.now() + 5;
  for (let i = 0; i < count; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    // No spinning to the exact microsecond: latency runs from the actual send, and a busy driver would only take
    // CPU from the servers on a two-core machine. The lag is reported instead.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lags.push(performance.now() - due);
    const req = make(i);
    pending.push(
      send(req).then(
        ({ status, body, ms }) => {
          if (ok(status, body)) latencies.push(ms);
          else {
            failed++;
            firstFailure ??= `${status} ${body.slice(0, 300)}`;
          }
        },
        (error: Error) => {
          failed++;
          firstFailure ??= error.message;
        },
      ),
    );
  }
  await Promise.all(pending);
  lags.sort((a, b) => a - b);
  return {
    latencies,
    failed,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    sendLagP99Ms: lags[Math.floor(lags.length * 0.99)] ?? 0,
  };
}

function send(req: TimedRequest): Promise<{ status: number; body: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const call = request(
      req.url,
      {
        method: 'POST',
        agent,
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.once('error', reject);
      },
    );
    call.once('error', reject);
    call.end(req.body);
  });
}
