// Store-key rotation without downtime: with a grace period the replaced key keeps working until it ends, so
// a gateway can be switched to the new key by a reload; without one (the default) the old key stops at once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestWallet, type TestWallet } from './test-harness.js';

let tw: TestWallet;

beforeEach(async () => {
  tw = await startTestWallet();
});

afterEach(async () => {
  await tw.close();
});

async function issuerKeysWith(key: string): Promise<number> {
  return (await tw.call('GET', '/v1/issuer-keys', { key })).status;
}

describe('store key rotation with a grace period', () => {
  it('accepts the old and the new key until the grace period ends, then only the new one', async () => {
    const rotated = await tw.admin('POST', '/v1/sandbox/stores', {
      storeId: tw.storeId,
      previousKeyGraceSec: 600,
    });
    expect(rotated.status).toBe(200);
    const newKey = rotated.body.storeKey as string;
    expect(await issuerKeysWith(tw.storeKey)).toBe(200);
    expect(await issuerKeysWith(newKey)).toBe(200);

    tw.clock.now += 599;
    expect(await issuerKeysWith(tw.storeKey)).toBe(200);
    tw.clock.now += 1;
    expect(await issuerKeysWith(tw.storeKey)).toBe(401);
    expect(await issuerKeysWith(newKey)).toBe(200);
  });

  it('a key in its grace period acts for its own store only', async () => {
    const other = await tw.admin('POST', '/v1/sandbox/stores', { storeId: 'store-2' });
    await tw.admin('POST', '/v1/sandbox/stores', { storeId: tw.storeId, previousKeyGraceSec: 600 });
    const feed = await tw.call('GET', '/v1/stores/store-2/risk-feed?waitMs=0', { key: tw.storeKey });
    expect(feed.status).toBe(403);
    const own = await tw.call('GET', `/v1/stores/${tw.storeId}/risk-feed?waitMs=0`, { key: tw.storeKey });
    expect(own.status).toBe(200);
    expect(await issuerKeysWith(other.body.storeKey)).toBe(200);
  });

  it('a second rotation ends the grace of the key rotated out before', async () => {
    const first = await tw.admin('POST', '/v1/sandbox/stores', {
      storeId: tw.storeId,
      previousKeyGraceSec: 600,
    });
    const second = await tw.admin('POST', '/v1/sandbox/stores', {
      storeId: tw.storeId,
      previousKeyGraceSec: 600,
    });
    expect(await issuerKeysWith(tw.storeKey)).toBe(401);
    expect(await issuerKeysWith(first.body.storeKey)).toBe(200);
    expect(await issuerKeysWith(second.body.storeKey)).toBe(200);
  });

  it('refuses a grace period longer than a week', async () => {
    const reply = await tw.admin('POST', '/v1/sandbox/stores', {
      storeId: tw.storeId,
      previousKeyGraceSec: 7 * 86_400 + 1,
    });
    expect(reply.status).toBe(400);
    expect(await issuerKeysWith(tw.storeKey)).toBe(200);
  });
});
