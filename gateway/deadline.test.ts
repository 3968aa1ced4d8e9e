// A wallet call's deadline aborts on time even after a garbage collection (the reason it is not AbortSignal.any()
// over AbortSignal.timeout(), which on Node 20 then never aborts), and with its parent; dispose() cleans up.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline, withDeadline } from './deadline.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A server that answers only after 3 s: a hung wallet, for the length of a test. */
const server = createServer((_req, res) => {
  setTimeout(() => res.end('late'), 3_000).unref();
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** One GET to the hung server under `signal`: 'aborted' when the signal ended it, else 'answered'. */
function call(signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, signal }, (res) => {
      res.resume();
      res.on('end', () => resolve('answered'));
    });
    req.on('error', () => resolve('aborted'));
    req.end();
  });
}

describe('deadline', () => {
  it('ends a hung call at its time although a garbage collection ran meanwhile', async () => {
    const stopping = new AbortController();
    for (let i = 0; i < 3; i++) {
      const startedAt = performance.now();
      const outcome = withDeadline(stopping.signal, 150, (signal) => call(signal));
      setTimeout(collectGarbage, 30);
      expect(await outcome).toBe('aborted');
      expect(performance.now() - startedAt).toBeLessThan(1_000);
    }
  });

  it('aborts with its parent, at once when the parent already has, and dispose() leaves the parent clean', async () => {
    const parent = new AbortController();
    const timed = deadline(parent.signal, 20);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(timed.signal.aborted).toBe(true);
    expect((timed.signal.reason as DOMException).name).toBe('TimeoutError');
    timed.dispose();
    const child = deadline(parent.signal, 10_000);
    parent.abort(new Error('stopping'));
    expect(child.signal.aborted).toBe(true);
    expect((child.signal.reason as Error).message).toBe('stopping');
    child.dispose();
    const late = deadline(parent.signal, 10_000);
    expect(late.signal.aborted).toBe(true);
    late.dispose();
    const alone = deadline(undefined, 10_000);
    expect(alone.signal.aborted).toBe(false);
    alone.dispose();
  });
});
