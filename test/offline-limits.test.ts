// Offline acceptance end to end (CONTRACT §4): the sandbox wallet and the gateway on loopback with their own SQLite
// files, the line between them cut so that connections are refused. Each limit at, just under and just over its
// bound; each decline reason reached; limits that hold across restarts; the risk feed's changes; /v1/status.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FEED_REFRESHED_AT_KEY } from '../gateway/offline/feed-source.js';
import type { EnrollOptions } from '../wallet/sandbox-phone.js';
import { type OfflineStack, startOfflineStack } from './support/offline.js';
import type { Json } from './support/stack.js';

const DAY_MS = 86_400_000;

async function customer(s: OfflineStack, enroll: EnrollOptions = {}, balance = 100_000) {
  const accountId = await s.stack.account(balance);
  const phone = await s.stack.phone(accountId, { enrolledAt: s.clock.sec - 30 * 86_400, ...enroll });
  return { accountId, phone, code: () => phone.nextCode(s.clock.sec) };
}

function expectApprovedOffline(s: OfflineStack, payment: Json): void {
  expect(payment).toMatchObject({ state: 'approved', mode: 'offline', decision: { approved: true } });
  expect(s.reversalsFor(payment.id)).toBe(0);
}

function expectDeclinedOffline(s: OfflineStack, payment: Json, reason: string): void {
  expect(payment).toMatchObject({
    state: 'declined',
    mode: 'offline',
    decision: { approved: false, reason },
  });
  // The id may have reached the wallet: a reversal makes sure it never stands.
  expect(s.reversalsFor(payment.id)).toBe(1);
}

/** Which of the four bounds behind offline_limit_exceeded fired, from the gateway's log line. */
function limitLogged(s: OfflineStack, paymentId: string): string | undefined {
  const line = s.stack.logs.find((l) => l.includes(paymentId) && l.includes('"limit"'));
  return line === undefined ? undefined : (JSON.parse(line) as { limit: string }).limit;
}

function expectOverLimit(s: OfflineStack, payment: Json, limit: string): void {
  expectDeclinedOffline(s, payment, 'offline_limit_exceeded');
  expect(limitLogged(s, payment.id)).toBe(limit);
}

describe('deciding offline under the limits', () => {
  let s: OfflineStack;

  beforeAll(async () => {
    s = await startOfflineStack({
      config: {
        offline: { storeLimit: 12_000, velocity: { maxPayments: 1_000 } },
        wallet: { timeoutMs: 5_000 },
      },
    });
  });
  afterAll(async () => s?.close());

  // Every test starts online with nothing unsynced and a fresh feed.
  beforeEach(async () => {
    await s.goOnline();
    const sync = await s.syncNow();
    expect(sync.ok).toBe(true);
    s.refreshFeed();
  });

  it('a refused connection is decided offline at once, under the same id, and the wallet settles it once', async () => {
    const c = await customer(s);
    await s.goOffline();
    const started = performance.now();
    const code = c.code();
    const paid = await s.pay(0, 1_200, code);
    expect(performance.now() - started).toBeLessThan(1_000);
    expectApprovedOffline(s, paid);
    // One log line for the payment: its offline decision, a warning, with the cause.
    const lines = s.stack.logs.filter((line) => line.includes(paid.id)).map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        cause: 'refused',
        approved: true,
        amount: 1_200,
        mode: 'offline',
      }),
    ]);
    expect((await s.pay(1, 1_200, code)).decision).toEqual({ approved: false, reason: 'code_replayed' });
    const authorizationId = s.authorizationIdOf(paid.id);
    expect(paid.decision.authorizationId).toBe(authorizationId);
    expect(await s.stack.balance(c.accountId)).toBe(100_000);

    await s.goOnline();
    expect(await s.syncNow()).toMatchObject({ ok: true, rejected: 0 });
    await s.syncNow();
    expect(await s.stack.balance(c.accountId)).toBe(98_800);
    const storeId = s.stack.gateway.config.storeId;
    const settled = (await s.stack.admin('GET', `/v1/sandbox/stores/${storeId}/settled`)).body.entries.filter(
      (e: Json) => e.authorizationId === authorizationId,
    );
    expect(settled).toEqual([
      expect.objectContaining({ type: 'authorization', mode: 'offline', status: 'settled' }),
    ]);
  });

  it('after a refused send, payments skip the send for 250 ms while the store is offline; one then probes again', async () => {
    const c = await customer(s);
    const sends = async (): Promise<number> => {
      const text = await (await fetch(`${s.stack.gateway.url}/metrics`)).text();
      const counts = [
        ...text.matchAll(/tillgate_wallet_call_seconds_count\{operation="authorize",outcome="\w+"\} (\d+)/g),
      ];
      return counts.reduce((sum, m) => sum + Number(m[1]), 0);
    };
    await s.goOffline();
    const before = await sends();
    expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    expect(await sends()).toBe(before + 1);
    s.clock.ms += 200;
    expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    expectApprovedOffline(s, await s.pay(1, 100, c.code()));
    expect(await sends()).toBe(before + 1);
    s.clock.ms += 60;
    expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    expect(await sends()).toBe(before + 2);
    // The wallet back within the window: the store stays offline (no contact yet), so the next payment inside the
    // window is still decided offline; past it, the send reaches the wallet and the store is online again.
    await s.goOnline();
    s.clock.ms -= 1_000;
    expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    s.clock.ms += 1_000;
    expect(await s.pay(0, 100, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
    expect(await sends()).toBe(before + 3);
  });

  it('per transaction: 4,999 and 5,000 approved, 5,001 declined', async () => {
    const a = await customer(s);
    const b = await customer(s);
    await s.goOffline();
    expectApprovedOffline(s, await s.pay(0, 4_999, a.code()));
    expectApprovedOffline(s, await s.pay(0, 5_000, b.code()));
    expectOverLimit(s, await s.pay(1, 5_001, b.code()), 'per_transaction');
  });

  it('per device: unsynced 9,999 and 10,000 approved, 10,001 declined', async () => {
    const c = await customer(s);
    await s.goOffline();
    expectApprovedOffline(s, await s.pay(0, 5_000, c.code()));
    expectApprovedOffline(s, await s.pay(0, 4_999, c.code()));
    expectApprovedOffline(s, await s.pay(1, 1, c.code()));
    expectOverLimit(s, await s.pay(1, 1, c.code()), 'per_device');
  });

  it("per device: the certificate's lower offlineLimit caps the device", async () => {
    const c = await customer(s, { offlineLimit: 3_000 });
    await s.goOffline();
    expectApprovedOffline(s, await s.pay(0, 2_999, c.code()));
    expectApprovedOffline(s, await s.pay(0, 1, c.code()));
    expectOverLimit(s, await s.pay(0, 1, c.code()), 'per_device');
  });

  it('consecutive: the 4th and 5th approved, the 6th declined; an online approval or a settled sync resets', async () => {
    const c = await customer(s);
    await s.goOffline();
    for (let i = 0; i < 5; i++) expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    expectOverLimit(s, await s.pay(0, 100, c.code()), 'consecutive');

    await s.goOnline();
    expect(await s.pay(0, 100, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
    await s.goOffline();
    for (let i = 0; i < 5; i++) expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    expectOverLimit(s, await s.pay(0, 100, c.code()), 'consecutive');

    await s.goOnline();
    await s.syncNow();
    await s.goOffline();
    expectApprovedOffline(s, await s.pay(0, 100, c.code()));
  });

  it('store: unsynced 11,999 and 12,000 approved, 12,001 declined', async () => {
    const [a, b, c, d] = [await customer(s), await customer(s), await customer(s), await customer(s)];
    await s.goOffline();
    expectApprovedOffline(s, await s.pay(0, 5_000, a.code()));
    expectApprovedOffline(s, await s.pay(0, 5_000, b.code()));
    expectApprovedOffline(s, await s.pay(1, 1_999, c.code()));
    expectApprovedOffline(s, await s.pay(1, 1, c.code()));
    expectOverLimit(s, await s.pay(0, 1, d.code()), 'store');
    expect((await s.status()).offline).toMatchObject({ storeExposure: 12_000, storeHeadroom: 0 });
  });

  it('feed refreshed 86,399.999 s and 86,400 s ago: approved; 86,400.001 s ago or never: offline_stale', async () => {
    const c = await customer(s);
    await s.goOffline();
    s.refreshFeed(s.clock.ms - DAY_MS + 1);
    expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    s.refreshFeed(s.clock.ms - DAY_MS);
    expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    s.refreshFeed(s.clock.ms - DAY_MS - 1);
    expectDeclinedOffline(s, await s.pay(0, 100, c.code()), 'offline_stale');
    s.stack.gateway.db.prepare('DELETE FROM meta WHERE key = ?').run(FEED_REFRESHED_AT_KEY);
    expectDeclinedOffline(s, await s.pay(0, 100, c.code()), 'offline_stale');
    expect((await s.status()).offline.feed).toEqual({ refreshedAt: null, stale: true });
  });

  it('device enrolled 86,401 s and 86,400 s ago: approved; 86,399 s ago: new_device_offline', async () => {
    await s.goOffline();
    const older = await customer(s, { enrolledAt: s.clock.sec - 86_401 });
    const atBound = await customer(s, { enrolledAt: s.clock.sec - 86_400 });
    const newer = await customer(s, { enrolledAt: s.clock.sec - 86_399 });
    expectApprovedOffline(s, await s.pay(0, 100, older.code()));
    expectApprovedOffline(s, await s.pay(0, 100, atBound.code()));
    expectDeclinedOffline(s, await s.pay(0, 100, newer.code()), 'new_device_offline');
  });

  it('restricted categories are refused offline, accepted online', async () => {
    const c = await customer(s);
    const tobacco = [
      { category: 'food', amount: 300 },
      { category: 'tobacco', amount: 600 },
    ];
    expect(await s.pay(0, 900, c.code(), tobacco)).toMatchObject({ state: 'approved', mode: 'online' });
    await s.goOffline();
    expectDeclinedOffline(s, await s.pay(0, 900, c.code(), tobacco), 'restricted_category_offline');
    const giftCard = [{ category: 'Gift_Card', amount: 900 }];
    expectDeclinedOffline(s, await s.pay(0, 900, c.code(), giftCard), 'restricted_category_offline');
    expectApprovedOffline(s, await s.pay(0, 900, c.code(), [{ category: 'food', amount: 900 }]));
  });

  it('a freeze or a revocation from the risk feed declines offline too (checks 8–9 come first)', async () => {
    const frozen = await customer(s);
    const revoked = await customer(s);
    await s.stack.admin('POST', `/v1/sandbox/accounts/${frozen.accountId}/freeze`);
    await s.stack.admin('POST', `/v1/sandbox/devices/${revoked.phone.deviceId}/revoke`);
    expect((await s.pollFeed()).map((e) => e.type)).toEqual(
      expect.arrayContaining(['account_frozen', 'device_revoked']),
    );
    await s.goOffline();
    expect((await s.pay(0, 100, frozen.code())).decision).toEqual({
      approved: false,
      reason: 'account_frozen',
    });
    expect((await s.pay(0, 100, revoked.code())).decision).toEqual({
      approved: false,
      reason: 'device_revoked',
    });
  });

  it('the register and /v1/status see the offline store: since when, exposure, headroom, devices', async () => {
    const c = await customer(s);
    expect(await s.pay(0, 100, c.code())).toMatchObject({ mode: 'online' });
    expect((await s.status()).offline.since).toBeNull();
    await s.goOffline();
    const offlineAt = s.clock.ms;
    expectApprovedOffline(s, await s.pay(0, 700, c.code()));
    const status = await s.status();
    expect(status.mode).toBe('offline');
    expect(Date.parse(status.offline.since)).toBe(offlineAt);
    expect(status.offline).toMatchObject({
      enabled: true,
      storeExposure: 700,
      storeHeadroom: 11_300,
      limits: { storeLimit: 12_000, perTransactionLimit: 5_000 },
      limitsFromFeed: [],
      feed: { stale: false },
      devices: [
        {
          deviceId: c.phone.deviceId,
          accountId: c.accountId,
          unsyncedTotal: 700,
          consecutive: 1,
          headroom: 9_300,
        },
      ],
    });

    await s.goOnline();
    expect(await s.pay(0, 100, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
    await s.syncNow();
    const back = await s.status();
    expect(back.mode).toBe('online');
    expect(back.offline).toMatchObject({ since: null, storeExposure: 0, storeHeadroom: 12_000, devices: [] });
  });

  it('the limits hold across restarts mid-sequence (real SQLite file)', async () => {
    const c = await customer(s);
    const other = await customer(s);
    await s.goOffline();
    expectApprovedOffline(s, await s.pay(0, 5_000, c.code()));
    expectApprovedOffline(s, await s.pay(0, 4_000, c.code()));
    expectApprovedOffline(s, await s.pay(0, 2_000, other.code()));
    await s.stack.restartGateway();
    const status = (await s.status()).offline;
    expect(status).toMatchObject({ storeExposure: 11_000, storeHeadroom: 1_000 });
    expect(status.devices[0]).toMatchObject({
      deviceId: c.phone.deviceId,
      unsyncedTotal: 9_000,
      consecutive: 2,
    });
    expectOverLimit(s, await s.pay(0, 1_001, c.code()), 'per_device');
    expectApprovedOffline(s, await s.pay(0, 1_000, c.code()));
    await s.stack.restartGateway();
    expectOverLimit(s, await s.pay(1, 1, c.code()), 'per_device');
    expectOverLimit(s, await s.pay(1, 1, other.code()), 'store');
  });
});

describe('limits changed by the risk feed', () => {
  let s: OfflineStack;

  beforeAll(async () => {
    s = await startOfflineStack({ refreshFeed: false });
  });
  afterAll(async () => s?.close());

  it('a store whose feed never refreshed is stale; sync/ follows the feed and its limits apply, restart or not', async () => {
    const c = await customer(s);
    await s.goOffline();
    expectDeclinedOffline(s, await s.pay(0, 100, c.code()), 'offline_stale');

    await s.stack.admin('POST', '/v1/sandbox/limits', {
      perTransactionLimit: 1_000,
      restrictedCategories: ['alcohol'],
    });
    expect((await s.pollFeed()).map((e) => e.type)).toContain('limits_changed');
    expectApprovedOffline(s, await s.pay(0, 1_000, c.code()));
    expectOverLimit(s, await s.pay(0, 1_001, c.code()), 'per_transaction');
    const alcohol = [{ category: 'alcohol', amount: 500 }];
    expectDeclinedOffline(s, await s.pay(0, 500, c.code(), alcohol), 'restricted_category_offline');
    expectApprovedOffline(s, await s.pay(0, 500, c.code(), [{ category: 'tobacco', amount: 500 }]));

    await s.stack.restartGateway();
    expectOverLimit(s, await s.pay(0, 1_001, c.code()), 'per_transaction');
    const status = (await s.status()).offline;
    expect(status.limits).toMatchObject({ perTransactionLimit: 1_000, restrictedCategories: ['alcohol'] });
    expect(status.limitsFromFeed).toEqual(['perTransactionLimit', 'restrictedCategories']);
  });
});

describe('velocity, both modes', () => {
  let s: OfflineStack;

  beforeAll(async () => {
    s = await startOfflineStack({ lanes: 3, config: { offline: { velocity: { windowSec: 20 } } } });
  });
  afterAll(async () => s?.close());

  it('more than 2 lanes within the window: velocity_exceeded', async () => {
    const c = await customer(s);
    expect((await s.pay(0, 100, c.code())).state).toBe('approved');
    expect((await s.pay(1, 100, c.code())).state).toBe('approved');
    expect(await s.pay(2, 100, c.code())).toMatchObject({
      state: 'declined',
      decision: { approved: false, reason: 'velocity_exceeded' },
    });
  });

  it('offline: the 6th payment within the window is velocity_exceeded, before the offline limits', async () => {
    const c = await customer(s);
    await s.goOffline();
    for (let i = 0; i < 5; i++) expectApprovedOffline(s, await s.pay(0, 100, c.code()));
    const sixth = await s.pay(0, 100, c.code());
    expect(sixth).toMatchObject({ state: 'declined', decision: { reason: 'velocity_exceeded' } });
    expect(sixth.mode).toBeUndefined();
    await s.goOnline();
  });

  it('online: the 4th and 5th payments approved, the 6th declined without asking the wallet; the window passes', async () => {
    const c = await customer(s);
    for (let i = 0; i < 5; i++) {
      expect(await s.pay(0, 100, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
    }
    const sixth = await s.pay(0, 100, c.code());
    expect(sixth).toMatchObject({
      state: 'declined',
      decision: { approved: false, reason: 'velocity_exceeded' },
    });
    expect(s.stack.gateway.ledger.forPayment(sixth.id)).toEqual([]);
    expect(await s.stack.balance(c.accountId)).toBe(99_500);

    s.clock.ms += 19_999;
    expect((await s.pay(0, 100, c.code())).decision.reason).toBe('velocity_exceeded');
    s.clock.ms += 1;
    expect(await s.pay(0, 100, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
  });
});

describe('online only', () => {
  let s: OfflineStack;
  let disabled: OfflineStack;

  beforeAll(async () => {
    // Real time: these wait for the wallet's deadline.
    s = await startOfflineStack({ realTime: true, config: { wallet: { timeoutMs: 600 } } });
    disabled = await startOfflineStack({
      realTime: true,
      config: { wallet: { timeoutMs: 600 }, offline: { enabled: false } },
    });
  });
  afterAll(async () => {
    await s?.close();
    await disabled?.close();
  });

  it('a numeric code is never approved offline: online_required, with a reversal', async () => {
    const accountId = await s.stack.account(10_000);
    const { body } = await s.stack.admin('POST', '/v1/sandbox/numeric-codes', { accountId });
    await s.goOffline();
    const paid = await s.pay(0, 100, body.code);
    expect(paid).toMatchObject({
      state: 'declined',
      decision: { approved: false, reason: 'online_required' },
    });
    expect(s.reversalsFor(paid.id)).toBe(1);
  });

  it('with offline acceptance switched off, a PC1 code waits for the deadline and is declined online_required', async () => {
    const c = await customer(disabled);
    await disabled.goOffline();
    const started = performance.now();
    const paid = await disabled.pay(0, 100, c.code());
    expect(performance.now() - started).toBeGreaterThanOrEqual(500);
    expect(paid).toMatchObject({
      state: 'declined',
      mode: 'online',
      decision: { reason: 'online_required' },
    });
    expect(disabled.reversalsFor(paid.id)).toBe(1);
    expect((await disabled.status()).offline.enabled).toBe(false);
  });
});
