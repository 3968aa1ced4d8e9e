// Sandbox fault injection: before and after the handler, latency, hang, reset, status, count and rate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultTable } from './faults.js';
import type { SandboxPhone } from './sandbox-phone.js';
import { authorizationBody, startTestWallet, TEST_NOW, type TestWallet } from './test-harness.js';

let tw: TestWallet;
let accountId: string;
let phone: SandboxPhone;

beforeEach(async () => {
  tw = await startTestWallet();
  accountId = await tw.account(10_000);
  phone = await tw.phone(accountId);
});

afterEach(async () => {
  await tw.close();
});

function fault(spec: Record<string, unknown>) {
  return tw.admin('POST', '/v1/sandbox/faults', spec);
}

function pay(amount: number, id?: string) {
  return tw.store('POST', '/v1/authorizations', authorizationBody(tw, phone.nextCode(TEST_NOW), amount, id));
}

describe('faults before the handler', () => {
  it('answers an injected status without running the handler, `count` times', async () => {
    expect((await fault({ path: '/v1/authorizations', status: 503, count: 2 })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const reply = await pay(100);
      expect(reply.status).toBe(503);
      expect(reply.body.error.code).toBe('injected_fault');
    }
    expect(await tw.balance(accountId)).toBe(10_000);
    expect((await pay(100)).body.status).toBe('approved');
  });

  it('resets the connection', async () => {
    await fault({ path: '/v1/authorizations', reset: true, count: 1 });
    await expect(pay(100)).rejects.toThrow();
    expect(await tw.balance(accountId)).toBe(10_000);
  });

  it('delays by latencyMs, then runs the handler', async () => {
    await fault({ path: '/healthz', latencyMs: 150 });
    const startedAt = performance.now();
    expect((await tw.call('GET', '/healthz')).body).toEqual({ ok: true });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
  });

  it('hangs until the client gives up, and close() does not wait for it', async () => {
    await fault({ path: '/healthz', hang: true });
    await expect(tw.call('GET', '/healthz', { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    const held = tw.call('GET', '/healthz').catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const startedAt = performance.now();
    await tw.wallet.close();
    expect(await held).toBeInstanceOf(Error);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('never touches /v1/sandbox, and DELETE clears every fault', async () => {
    await fault({ path: '/v1', status: 500 });
    expect((await tw.admin('GET', `/v1/sandbox/accounts/${accountId}`)).status).toBe(200);
    expect((await tw.store('GET', '/v1/issuer-keys')).status).toBe(500);
    expect((await tw.admin('DELETE', '/v1/sandbox/faults')).body).toEqual({ cleared: 1 });
    expect((await tw.store('GET', '/v1/issuer-keys')).status).toBe(200);
  });

  it('validates fault specs', async () => {
    expect((await fault({ path: 'no-slash', status: 500 })).body.error.field).toBe('path');
    expect((await fault({ path: '/x' })).status).toBe(400);
    expect((await fault({ path: '/x', hang: true, reset: true })).status).toBe(400);
    expect((await fault({ path: '/x', status: 200 })).body.error.field).toBe('status');
    expect((await fault({ path: '/x', status: 500, rate: 2 })).body.error.field).toBe('rate');
  });
});

describe('faults after the handler', () => {
  it('drops the response after the wallet charged; the retry gets the first result', async () => {
    await fault({ path: '/v1/authorizations', reset: true, phase: 'after', count: 1 });
    const body = authorizationBody(tw, phone.nextCode(TEST_NOW), 1_000);
    await expect(tw.store('POST', '/v1/authorizations', body)).rejects.toThrow();
    expect(await tw.balance(accountId)).toBe(9_000);
    expect((await tw.store('GET', `/v1/authorizations/${body.id}`)).body.status).toBe('approved');
    expect((await tw.store('POST', '/v1/authorizations', body)).body.status).toBe('approved');
    expect(await tw.balance(accountId)).toBe(9_000);
  });

  it('replaces the response with an error status after committing', async () => {
    await fault({ path: '/v1/authorizations', status: 502, phase: 'after', count: 1 });
    const reply = await pay(1_000);
    expect(reply).toEqual({
      status: 502,
      body: { error: { code: 'injected_fault', message: expect.any(String) } },
    });
    expect(await tw.balance(accountId)).toBe(9_000);
  });

  it('hangs after committing', async () => {
    await fault({ path: '/v1/authorizations', hang: true, phase: 'after', count: 1 });
    const body = authorizationBody(tw, phone.nextCode(TEST_NOW), 1_000);
    const hung = tw.call('POST', '/v1/authorizations', {
      key: tw.storeKey,
      body,
      signal: AbortSignal.timeout(150),
    });
    await expect(hung).rejects.toThrow();
    expect(await tw.balance(accountId)).toBe(9_000);
    expect((await tw.store('GET', `/v1/authorizations/${body.id}`)).body.status).toBe('approved');
  });

  it('delays the answer after committing', async () => {
    await fault({ path: '/v1/authorizations', latencyMs: 120, phase: 'after', count: 1 });
    const startedAt = performance.now();
    expect((await pay(1_000)).body.status).toBe('approved');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(110);
  });
});

describe('FaultTable', () => {
  it('hits a matching path at the given rate', () => {
    const draws = [0.1, 0.9, 0.4];
    const table = new FaultTable(() => draws.shift() ?? 0);
    table.add({ path: '/v1/auth', rate: 0.5, phase: 'before', status: 500 });
    expect(table.take('/v1/refunds')).toBeNull();
    expect(table.take('/v1/authorizations')).not.toBeNull();
    expect(table.take('/v1/authorizations')).toBeNull();
    expect(table.take('/v1/authorizations')).not.toBeNull();
    expect(table.take('/v1/sandbox/accounts')).toBeNull();
  });

  it('forgets a fault once its count is used up', () => {
    const table = new FaultTable();
    table.add({ path: '/', rate: 1, phase: 'before', status: 500, count: 1 });
    expect(table.take('/healthz')).not.toBeNull();
    expect(table.take('/healthz')).toBeNull();
    expect(table.list()).toEqual([]);
  });
});
