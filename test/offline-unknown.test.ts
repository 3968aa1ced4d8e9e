// When the wallet's outcome stays unknown at the deadline (a hang, resets, errors), a PC1 code is decided offline
// under the same authorization id: the wallet settles it once when the ledger entry is uploaded — with no second
// debit if it had approved the id online after all — and an offline decline gets a reversal that undoes any charge.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OfflineStack, startOfflineStack } from './support/offline.js';

const TIMEOUT_MS = 1_500;
const PROBE_MS = 300;

let s: OfflineStack;

beforeAll(async () => {
  s = await startOfflineStack({
    realTime: true,
    config: {
      wallet: { timeoutMs: TIMEOUT_MS, queryIntervalMs: 100, healthWindowMs: 60_000 },
      // A restart gives in-flight decisions this long before it aborts them.
      http: { shutdownGraceMs: 100 },
      offline: { probeTimeoutMs: PROBE_MS, velocity: { maxPayments: 1_000 } },
    },
  });
});
afterAll(async () => s?.close());

beforeEach(async () => {
  await s.stack.admin('DELETE', '/v1/sandbox/faults');
  expect((await s.syncNow()).ok).toBe(true);
  s.refreshFeed();
});

async function customer() {
  const accountId = await s.stack.account(50_000);
  const phone = await s.stack.phone(accountId);
  return { accountId, code: () => phone.nextCode(s.clock.sec) };
}

/** Pays while the wallet's authorization endpoints hang; the health signal is brought back online first. */
async function payWhileHanging(amount: number, code: string, phase: 'before' | 'after') {
  await s.stack.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', hang: true, phase });
  const started = performance.now();
  const paid = await s.pay(0, amount, code);
  const elapsedMs = performance.now() - started;
  await s.stack.admin('DELETE', '/v1/sandbox/faults');
  return { paid, elapsedMs };
}

async function bringHealthOnline(): Promise<void> {
  const c = await customer();
  expect(await s.pay(1, 1, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
  expect(s.stack.gateway.health.mode).toBe('online');
}

describe('outcome unknown at the deadline', () => {
  it('the wallet never got it: approved offline after the deadline; the upload charges it once', async () => {
    await bringHealthOnline();
    const c = await customer();
    const { paid, elapsedMs } = await payWhileHanging(2_000, c.code(), 'before');
    expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS + 1_000);
    expect(paid).toMatchObject({ state: 'approved', mode: 'offline', decision: { approved: true } });
    expect(s.reversalsFor(paid.id)).toBe(0);
    expect(await s.stack.balance(c.accountId)).toBe(50_000);
    expect(await s.syncNow()).toMatchObject({ ok: true, rejected: 0 });
    expect(await s.stack.balance(c.accountId)).toBe(48_000);
  });

  it('the wallet approved it but the answer never came: approved offline, and the upload settles it without a second debit', async () => {
    await bringHealthOnline();
    const c = await customer();
    const { paid } = await payWhileHanging(3_000, c.code(), 'after');
    expect(paid).toMatchObject({ state: 'approved', mode: 'offline' });
    expect(await s.stack.balance(c.accountId)).toBe(47_000);
    expect(await s.syncNow()).toMatchObject({ ok: true, rejected: 0 });
    expect(await s.syncNow()).toMatchObject({ ok: true });
    expect(await s.stack.balance(c.accountId)).toBe(47_000);
    const storeId = s.stack.gateway.config.storeId;
    const entries = (await s.stack.admin('GET', `/v1/sandbox/stores/${storeId}/settled`)).body.entries;
    const mine = entries.filter(
      (e: { authorizationId: string }) => e.authorizationId === paid.decision.authorizationId,
    );
    expect(mine).toEqual([expect.objectContaining({ mode: 'offline', status: 'settled' })]);
  });

  it('declined offline after the wallet charged: the reversal gives the money back', async () => {
    await bringHealthOnline();
    const c = await customer();
    const { paid } = await payWhileHanging(6_000, c.code(), 'after');
    expect(paid).toMatchObject({
      state: 'declined',
      mode: 'offline',
      decision: { reason: 'offline_limit_exceeded' },
    });
    expect(s.reversalsFor(paid.id)).toBe(1);
    expect(s.stack.gateway.ledger.forPayment(paid.id).map((e) => e.type)).toEqual(['reversal']);
    expect(await s.stack.balance(c.accountId)).toBe(44_000);
    const sync = await s.syncNow();
    expect(sync.calls.done).toBeGreaterThanOrEqual(1);
    expect(await s.stack.balance(c.accountId)).toBe(50_000);
  });

  it('connection resets are not a refusal: the gateway asks until the deadline, then decides offline', async () => {
    await bringHealthOnline();
    const c = await customer();
    await s.stack.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', reset: true });
    const started = performance.now();
    const paid = await s.pay(0, 1_000, c.code());
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(paid).toMatchObject({ state: 'approved', mode: 'offline' });
  });

  it('while the health signal says offline, a hung wallet costs only the short probe', async () => {
    const c = await customer();
    await payWhileHanging(100, c.code(), 'before');
    expect(s.stack.gateway.health.mode).toBe('offline');
    const { paid, elapsedMs } = await payWhileHanging(100, c.code(), 'before');
    expect(paid).toMatchObject({ state: 'approved', mode: 'offline' });
    expect(elapsedMs).toBeGreaterThanOrEqual(PROBE_MS - 50);
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS);
  });

  it('the probe finds a wallet that is back: online again, and the health signal with it', async () => {
    const c = await customer();
    await payWhileHanging(100, c.code(), 'before');
    expect(s.stack.gateway.health.mode).toBe('offline');
    expect(await s.pay(0, 100, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
    expect(s.stack.gateway.health.mode).toBe('online');
  });

  it('a shutdown while the outcome is unknown declines with a reversal rather than deciding offline', async () => {
    await bringHealthOnline();
    const c = await customer();
    await s.stack.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', hang: true });
    const paying = s.pay(0, 500, c.code()).catch(() => null);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [row] = s.stack.gateway.service.repo.openPayments().filter((p) => p.state === 'authorizing');
    expect(row).toBeDefined();
    await s.stack.restartGateway();
    await paying;
    expect(s.stack.gateway.service.get(row!.id)).toMatchObject({
      state: 'declined',
      decision: { reason: 'online_required' },
    });
    expect(s.reversalsFor(row!.id)).toBe(1);
  });
});
