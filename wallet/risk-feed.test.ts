// The risk feed: cursor paging, long polls woken by a commit, cleanup when a client goes away or the wallet closes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWalletDb } from './db.js';
import { FEED_LIMITS, RiskFeed } from './risk-feed.js';
import { type Json, startTestWallet, TEST_NOW, type TestWallet } from './test-harness.js';

let tw: TestWallet;

beforeEach(async () => {
  tw = await startTestWallet();
});

afterEach(async () => {
  await tw.close();
});

function feed(query = '', signal?: AbortSignal) {
  return tw.call('GET', `/v1/stores/${tw.storeId}/risk-feed${query}`, {
    key: tw.storeKey,
    ...(signal ? { signal } : {}),
  });
}

describe('risk feed over HTTP', () => {
  it('starts with the first issuer key, so a gateway can learn keys from the feed', async () => {
    const keys = (await tw.store('GET', '/v1/issuer-keys')).body;
    const page = (await feed()).body;
    expect(page.events).toEqual([
      { seq: 1, type: 'issuer_key_added', kid: 1, publicKey: keys[0].publicKey, createdAt: TEST_NOW },
    ]);
    expect(page.cursor).toBe('1');
    expect((await feed('?cursor=1')).body).toEqual({ cursor: '1', events: [] });
  });

  it('publishes every kind of event in order, after the cursor', async () => {
    const accountId = await tw.account(100);
    const phone = await tw.phone(accountId);
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/freeze`);
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/freeze`); // no change, no event
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/unfreeze`);
    await tw.admin('POST', `/v1/sandbox/devices/${phone.deviceId}/revoke`);
    const added = (await tw.admin('POST', '/v1/sandbox/issuer-keys')).body;
    await tw.admin('POST', '/v1/sandbox/issuer-keys/1/revoke');
    await tw.admin('POST', '/v1/sandbox/limits', { perTransactionLimit: 3_000 });
    const page = (await feed('?cursor=1')).body;
    expect(page.events.map(({ createdAt: _c, ...event }: Json) => event)).toEqual([
      { seq: 2, type: 'account_frozen', accountId },
      { seq: 3, type: 'account_unfrozen', accountId },
      { seq: 4, type: 'device_revoked', deviceId: phone.deviceId },
      { seq: 5, type: 'issuer_key_added', kid: 2, publicKey: added.publicKey },
      { seq: 6, type: 'issuer_key_revoked', kid: 1 },
      { seq: 7, type: 'limits_changed', perTransactionLimit: 3_000 },
    ]);
    expect(page.cursor).toBe('7');
  });

  it('wakes a held long poll within ~100 ms of a freeze', async () => {
    const accountId = await tw.account(100);
    const { cursor } = (await feed()).body;
    const startedAt = performance.now();
    const poll = feed(`?cursor=${cursor}&waitMs=10000`).then((reply) => ({ reply, at: performance.now() }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const frozenAt = performance.now();
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/freeze`);
    const { reply, at } = await poll;
    expect(reply.body.events).toEqual([{ seq: 2, type: 'account_frozen', accountId, createdAt: TEST_NOW }]);
    expect(at - frozenAt).toBeLessThan(100);
    expect(at - startedAt).toBeGreaterThanOrEqual(50);
  });

  it('answers an empty page with the same cursor when waitMs passes', async () => {
    const startedAt = performance.now();
    const reply = await feed('?cursor=1&waitMs=150');
    expect(reply.body).toEqual({ cursor: '1', events: [] });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
  });

  it('pages at most 500 events per answer', async () => {
    const direct = new RiskFeed(tw.wallet.db, () => TEST_NOW);
    tw.wallet.db.transaction(() => {
      for (let i = 0; i < 600; i++) direct.publish('limits_changed', { perTransactionLimit: i + 1 });
    })();
    const first = (await feed('?cursor=1')).body;
    expect(first.events).toHaveLength(FEED_LIMITS.pageEventsMax);
    const second = (await feed(`?cursor=${first.cursor}`)).body;
    expect(second.events).toHaveLength(100);
    expect(second.events.at(-1).perTransactionLimit).toBe(600);
  });

  it('validates the query and the store', async () => {
    expect((await feed('?cursor=abc')).body.error.field).toBe('cursor');
    expect((await feed('?waitMs=30001')).body.error.field).toBe('waitMs');
    expect((await tw.store('GET', '/v1/stores/store-2/risk-feed')).status).toBe(403);
    expect((await tw.call('GET', `/v1/stores/${tw.storeId}/risk-feed`, { key: null })).status).toBe(401);
  });

  it('ends a held long poll when the wallet closes', async () => {
    const poll = feed('?cursor=1&waitMs=20000').catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = performance.now();
    await tw.wallet.close();
    const outcome = (await poll) as Json;
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    if (!(outcome instanceof Error)) expect(outcome.body).toEqual({ cursor: '1', events: [] });
  });
});

describe('RiskFeed', () => {
  it('lets go of a waiter whose signal aborts (a client that went away)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillgate-feed-'));
    const db = openWalletDb(join(dir, 'w.sqlite'));
    try {
      const riskFeed = new RiskFeed(db, () => TEST_NOW);
      const controller = new AbortController();
      const poll = riskFeed.poll(0, 10_000, controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(riskFeed.waiting).toBe(1);
      controller.abort();
      expect(await poll).toEqual({ cursor: '0', events: [] });
      expect(riskFeed.waiting).toBe(0);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not answer a poll for an event whose transaction rolled back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillgate-feed-'));
    const db = openWalletDb(join(dir, 'w.sqlite'));
    try {
      const riskFeed = new RiskFeed(db, () => TEST_NOW);
      const poll = riskFeed.poll(0, 200, new AbortController().signal);
      expect(() =>
        db.transaction(() => {
          riskFeed.publish('account_frozen', { accountId: '0011223344556677' });
          throw new Error('rolled back');
        })(),
      ).toThrow('rolled back');
      expect((await poll).events).toEqual([]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
