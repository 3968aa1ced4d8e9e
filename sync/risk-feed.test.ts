// The risk-feed follower: each page applied atomically with its cursor, malformed pages refused whole, the refresh
// time kept on empty answers, and plain polling while long polls fail — against the sandbox wallet.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WalletClient } from '../gateway/wallet-client/wallet-client.js';
import {
  type Json,
  type SyncFixture,
  startSyncFixture,
  waitFor,
  wrapWallet,
} from '../test/support/sync-fixture.js';
import { getMeta, META_KEYS } from './meta.js';
import {
  applyRiskPage,
  feedLimits,
  feedState,
  type RiskEvent,
  RiskFeedError,
  RiskFeedFollower,
} from './risk-feed.js';

let f: SyncFixture;

beforeEach(async () => {
  f = await startSyncFixture();
});

afterEach(async () => {
  await f.close();
});

const ACCOUNT = '0011223344556677';
const DEVICE = '8899aabbccddeeff';
const KEY = 'ab'.repeat(32);

function table(sql: string): Json[] {
  return f.db.prepare(sql).all() as Json[];
}

describe('applyRiskPage', () => {
  it('applies every kind of event and the cursor together', () => {
    const events = [
      { type: 'issuer_key_added', kid: 3, publicKey: KEY, seq: 1, createdAt: 100 },
      { type: 'account_frozen', accountId: ACCOUNT, seq: 2, createdAt: 200 },
      { type: 'device_revoked', deviceId: DEVICE, seq: 3, createdAt: 300 },
      { type: 'limits_changed', perTransactionLimit: 3_000, seq: 4 },
      { type: 'limits_changed', storeLimit: 90_000, seq: 5 },
      { type: 'issuer_key_revoked', kid: 3, seq: 6 },
    ];
    const { applied } = applyRiskPage(f.db, { cursor: '6', events }, 5_000);
    expect(applied).toHaveLength(6);
    expect(table('SELECT * FROM frozen_accounts')).toEqual([{ account_id: ACCOUNT, since: 200_000 }]);
    expect(table('SELECT * FROM revoked_devices')).toEqual([{ device_id: DEVICE, since: 300_000 }]);
    expect(table('SELECT * FROM issuer_keys')).toEqual([
      { kid: 3, public_key: KEY, revoked: 1, updated_at: 5_000 },
    ]);
    expect(feedLimits(f.db)).toEqual({ perTransactionLimit: 3_000, storeLimit: 90_000 });
    expect(feedState(f.db, 8_000)).toEqual({ cursor: '6', refreshedAt: 5_000, ageSec: 3 });
    applyRiskPage(f.db, { cursor: '7', events: [{ type: 'account_unfrozen', accountId: ACCOUNT }] }, 9_000);
    expect(table('SELECT * FROM frozen_accounts')).toEqual([]);
  });

  it('refuses a page with a malformed event whole: nothing applied, cursor unchanged', () => {
    applyRiskPage(f.db, { cursor: '1', events: [] }, 1_000);
    const page = {
      cursor: '3',
      events: [
        { type: 'account_frozen', accountId: ACCOUNT },
        { type: 'device_revoked', deviceId: 'not-hex' },
      ],
    };
    expect(() => applyRiskPage(f.db, page, 2_000)).toThrow(RiskFeedError);
    const badLimit = { cursor: '3', events: [{ type: 'limits_changed', perDeviceLimit: -1 }] };
    expect(() => applyRiskPage(f.db, badLimit, 2_000)).toThrow(RiskFeedError);
    expect(table('SELECT * FROM frozen_accounts')).toEqual([]);
    expect(feedState(f.db, 2_000)).toMatchObject({ cursor: '1', refreshedAt: 1_000 });
  });

  it('skips event types it does not know, and still moves on', () => {
    const { applied, skipped } = applyRiskPage(
      f.db,
      { cursor: '2', events: [{ type: 'weather_changed' }] },
      1_000,
    );
    expect([applied, skipped]).toEqual([[], ['weather_changed']]);
    expect(getMeta(f.db, META_KEYS.feedCursor)).toBe('2');
  });
});

describe('RiskFeedFollower', () => {
  function follower(wallet: WalletClient, onApplied?: (events: RiskEvent[]) => void): RiskFeedFollower {
    return new RiskFeedFollower({
      db: f.db,
      wallet,
      storeId: f.tw.storeId,
      config: { ...f.config, feedWaitMs: 2_000, feedLongPollRetryMs: 400 },
      logger: f.logger,
      now: Date.now,
      random: () => 0.5,
      onApplied,
    });
  }

  it('learns the issuer key, then applies a freeze within 2 s and a key revocation, calling onApplied', async () => {
    const seen: RiskEvent[][] = [];
    const feed = follower(f.wallet, (events) => seen.push(events));
    feed.start();
    try {
      await waitFor(() => table('SELECT kid FROM issuer_keys').length === 1, 2_000, 'the first issuer key');
      const c = await f.customer(1_000);
      const frozenAt = performance.now();
      await f.tw.admin('POST', `/v1/sandbox/accounts/${c.accountId}/freeze`);
      await waitFor(() => table('SELECT * FROM frozen_accounts').length === 1, 2_000, 'the freeze');
      expect(performance.now() - frozenAt).toBeLessThan(2_000);
      await f.tw.admin('POST', '/v1/sandbox/issuer-keys/1/revoke');
      await waitFor(
        () => table('SELECT revoked FROM issuer_keys WHERE kid = 1')[0]?.revoked === 1,
        2_000,
        'the revocation',
      );
      expect(seen.flat().map((e) => e.type)).toEqual([
        'issuer_key_added',
        'account_frozen',
        'issuer_key_revoked',
      ]);
      expect(feed.mode).toBe('long_poll');
    } finally {
      await feed.stop();
    }
  });

  it('records a refresh on every answer, even an empty long poll', async () => {
    const feed = follower(f.wallet);
    await feed.pollOnce(0);
    const first = feedState(f.db).refreshedAt!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await feed.pollOnce(50)).toEqual([]);
    expect(feedState(f.db).refreshedAt!).toBeGreaterThan(first);
  });

  it('polls plainly while long polls fail, still within 2 s of a freeze, then long-polls again', async () => {
    const waits: number[] = [];
    const recording = wrapWallet(f.wallet, {
      riskFeed: (storeId, cursor, waitMs, signal) => {
        waits.push(waitMs);
        return f.wallet.riskFeed(storeId, cursor, waitMs, signal);
      },
    });
    await f.tw.admin('POST', '/v1/sandbox/faults', {
      path: `/v1/stores/${f.tw.storeId}/risk-feed`,
      status: 502,
      count: 1,
    });
    const feed = follower(recording);
    feed.start();
    try {
      await waitFor(() => feed.mode === 'polling', 2_000, 'plain polling');
      const c = await f.customer(1_000);
      await f.tw.admin('POST', `/v1/sandbox/accounts/${c.accountId}/freeze`);
      await waitFor(
        () => table('SELECT * FROM frozen_accounts').length === 1,
        2_000,
        'the freeze while polling',
      );
      await waitFor(() => waits.length > 3 && waits.at(-1)! > 0, 3_000, 'a long poll again');
      expect(waits[0]).toBe(2_000);
      expect(waits.slice(1, 3)).toEqual([0, 0]);
      expect(f.logs.some((line) => line.includes('polling instead'))).toBe(true);
    } finally {
      await feed.stop();
    }
  });
});
