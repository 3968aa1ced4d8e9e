// The fault proxy against a small HTTP server on loopback: each mode does what it says to a real client (fetch),
// the wallet side sees a request only when the mode forwards one, and a seeded schedule repeats itself.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_FAULTS, FaultProxy, flappingSchedule } from './fault-proxy.js';

const ANSWER = JSON.stringify({ id: 'a_1', status: 'approved', padding: 'x'.repeat(200) });

let target: Server;
let proxy: FaultProxy;
let requests = 0;

beforeEach(async () => {
  requests = 0;
  target = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  proxy = await FaultProxy.start(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
});

afterEach(async () => {
  await proxy.close();
  target.closeAllConnections();
  await new Promise<void>((resolve) => target.close(() => resolve()));
});

function call(timeoutMs = 2_000): Promise<Response> {
  return fetch(`${proxy.url}/v1/authorizations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"id":"a_1"}',
    signal: AbortSignal.timeout(timeoutMs),
  });
}

describe('fault proxy', () => {
  it('passes requests and answers through unchanged', async () => {
    const response = await call();
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(ANSWER);
    expect(requests).toBe(1);
    expect(proxy.connections.pass).toBe(1);
  });

  it('delays both ways by the latency', async () => {
    proxy.set({ kind: 'latency', ms: 150 });
    const startedAt = performance.now();
    const response = await call();
    expect(await response.text()).toBe(ANSWER);
    // Request and answer are each held 150 ms.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
  });

  it('hangs: accepts, never answers, never forwards', async () => {
    proxy.set({ kind: 'hang' });
    await expect(call(300)).rejects.toThrow(/aborted|timeout/i);
    expect(requests).toBe(0);
    expect(proxy.connections.hang).toBe(1);
  });

  it('resets the connection before anything is forwarded', async () => {
    proxy.set({ kind: 'reset' });
    await expect(call()).rejects.toThrow(/fetch failed/);
    expect(requests).toBe(0);
  });

  it('truncates the answer after n body bytes: the wallet did the work, the client gets no whole body', async () => {
    proxy.set({ kind: 'truncate', bytes: 10 });
    const response = await call();
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow(/terminated/);
    expect(requests).toBe(1);
  });

  it.each([500, 503, 429] as const)('answers %i itself without asking the wallet', async (status) => {
    proxy.set({ kind: 'status', status });
    const response = await call();
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(`http_${status}`);
    expect(response.headers.get('retry-after')).toBe(status === 429 ? '1' : null);
    expect(requests).toBe(0);
  });

  it('a mode change cuts open connections, so a hung request fails at once', async () => {
    proxy.set({ kind: 'hang' });
    const hung = call(5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const startedAt = performance.now();
    proxy.set({ kind: 'pass' });
    await expect(hung).rejects.toThrow();
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(await (await call()).text()).toBe(ANSWER);
  });

  it('flapping follows a seeded schedule over every kind of fault', async () => {
    const take = (seed: number) => {
      const schedule = flappingSchedule({ seed, minMs: 10, maxMs: 50 });
      return Array.from({ length: 60 }, () => schedule.next().value!);
    };
    const first = take(7);
    expect(take(7)).toEqual(first);
    expect(take(8)).not.toEqual(first);
    expect(new Set(first.map((step) => step.mode))).toEqual(new Set(ALL_FAULTS));
    expect(first.every((step) => step.ms >= 10 && step.ms <= 50)).toBe(true);
    expect(() => flappingSchedule({ seed: 1, minMs: 0, maxMs: 5 }).next()).toThrow(/minMs/);

    proxy.flap({ seed: 7, minMs: 10, maxMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    proxy.set({ kind: 'pass' });
    expect(proxy.switches).toBeGreaterThan(8);
    expect(await (await call()).text()).toBe(ANSWER);
  });
});
