// One code, fifty requests at once across ten lanes: exactly one approval, offline and online — the counter check,
// the limits and the decision share one SQLite transaction. Also fifty different customers at once against the
// store limit: never a yen over it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OfflineStack, startOfflineStack } from './support/offline.js';
import type { Json } from './support/stack.js';

const LANES = 10;
const REQUESTS = 50;

let s: OfflineStack;

beforeAll(async () => {
  s = await startOfflineStack({ lanes: LANES, config: { offline: { storeLimit: 10_000 } } });
});
afterAll(async () => s?.close());

beforeEach(async () => {
  await s.goOnline();
  await s.syncNow();
  s.refreshFeed();
});

function allAtOnce(codes: (i: number) => string, amount: number): Promise<Json[]> {
  return Promise.all(Array.from({ length: REQUESTS }, (_, i) => s.pay(i % LANES, amount, codes(i))));
}

function summary(payments: Json[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of payments) {
    const key = p.state === 'approved' ? `approved ${p.mode}` : p.decision.reason;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('fifty requests with one code across lanes', () => {
  it('offline: one approval, 49 code_replayed, one ledger entry', async () => {
    const accountId = await s.stack.account(100_000);
    const phone = await s.stack.phone(accountId);
    const code = phone.nextCode(s.clock.sec);
    await s.goOffline();
    const results = await allAtOnce(() => code, 1_000);
    expect(summary(results)).toEqual({ 'approved offline': 1, code_replayed: REQUESTS - 1 });
    const approved = results.find((p) => p.state === 'approved');
    expect(s.stack.gateway.ledger.forPayment(approved.id).map((e) => e.type)).toEqual(['authorization']);
    expect((await s.status()).offline.storeExposure).toBe(1_000);
    await s.goOnline();
    await s.syncNow();
    expect(await s.stack.balance(accountId)).toBe(99_000);
  });

  it('online: one approval, charged once', async () => {
    const accountId = await s.stack.account(100_000);
    const phone = await s.stack.phone(accountId);
    const code = phone.nextCode(s.clock.sec);
    const results = await allAtOnce(() => code, 1_000);
    expect(summary(results)).toEqual({ 'approved online': 1, code_replayed: REQUESTS - 1 });
    expect(await s.stack.balance(accountId)).toBe(99_000);
  });
});

describe('fifty customers at once offline', () => {
  it('approve exactly up to the store limit and no further', async () => {
    const phones = await Promise.all(
      Array.from({ length: REQUESTS }, async () => s.stack.phone(await s.stack.account(10_000))),
    );
    await s.goOffline();
    const results = await allAtOnce((i) => phones[i]!.nextCode(s.clock.sec), 700);
    // 14 × 700 = 9,800 ≤ 10,000 < 15 × 700.
    expect(summary(results)).toEqual({ 'approved offline': 14, offline_limit_exceeded: REQUESTS - 14 });
    expect((await s.status()).offline).toMatchObject({ storeExposure: 9_800, storeHeadroom: 200 });
  });
});
