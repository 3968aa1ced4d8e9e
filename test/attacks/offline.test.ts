// Attacks on offline acceptance and on the 7pay pattern, each a named test through the real stack: a phone enrolled
// minutes ago (a taken-over account adds a new device) paying offline, restricted goods (tobacco cartons, gift
// cards) offline, and the burst of payments at several lanes that a stolen account makes (velocity), in both modes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OfflineStack, startOfflineStack } from '../support/offline.js';
import { attempt, customer, expectRefused, Tally } from './support.js';

const tally = new Tally('attacks/offline');
let s: OfflineStack;

beforeAll(async () => {
  s = await startOfflineStack({ lanes: 3 });
});

afterAll(async () => {
  await s?.close();
  tally.report();
});

beforeEach(async () => {
  await s.goOnline();
  expect((await s.syncNow()).ok).toBe(true);
  s.refreshFeed();
});

describe('offline acceptance', () => {
  it('a newly enrolled device offline: new_device_offline; the same phone online is the wallet’s to decide', async () => {
    const c = await customer(s, { enrolledAt: s.clock.sec - 600 });
    await s.goOffline();
    for (const amount of [100, 1_000, 4_000]) {
      tally.tried();
      expectRefused(s.stack, await attempt(s.stack, 0, amount, c.code()), 'new_device_offline');
    }
    await s.goOnline();
    expect(await attempt(s.stack, 0, 100, c.code())).toMatchObject({ state: 'approved', mode: 'online' });
    expect(await s.stack.balance(c.accountId)).toBe(100_000 - 100);
    tally.held('new-device-offline');
  });

  it('restricted items offline: any restricted line refuses the whole basket, however small', async () => {
    const c = await customer(s);
    await s.goOffline();
    const baskets = [
      [{ category: 'tobacco', amount: 4_900 }],
      [
        { category: 'food', amount: 900 },
        { category: 'gift_card', amount: 100 },
      ],
      [{ category: 'prepaid_card', amount: 1 }],
    ];
    for (const basket of baskets) {
      tally.tried();
      const amount = basket.reduce((sum, line) => sum + line.amount, 0);
      expectRefused(
        s.stack,
        await attempt(s.stack, 0, amount, c.code(), { basket }),
        'restricted_category_offline',
      );
    }
    // The same customer buying food offline is fine: the rule is about the goods, not the customer.
    const food = await attempt(s.stack, 0, 900, c.code(), { basket: [{ category: 'food', amount: 900 }] });
    expect(food).toMatchObject({ state: 'approved', mode: 'offline' });
    tally.held('restricted-items-offline');
  });
});

describe('velocity (the 7pay pattern)', () => {
  it('one account paying at a third lane within the window: velocity_exceeded, online and offline', async () => {
    for (const online of [true, false]) {
      const c = await customer(s);
      if (!online) await s.goOffline();
      expect((await attempt(s.stack, 0, 1_000, c.code())).state).toBe('approved');
      expect((await attempt(s.stack, 1, 1_000, c.code())).state).toBe('approved');
      tally.tried();
      expectRefused(s.stack, await attempt(s.stack, 2, 1_000, c.code()), 'velocity_exceeded');
      if (!online) await s.goOnline();
    }
    tally.held('velocity-lanes');
  });

  it('a burst on one lane: the 6th payment within the window is refused before the wallet is asked', async () => {
    const c = await customer(s);
    for (let i = 0; i < 5; i++) expect((await attempt(s.stack, 0, 100, c.code())).state).toBe('approved');
    for (let i = 0; i < 5; i++) {
      tally.tried();
      expectRefused(s.stack, await attempt(s.stack, 0, 100, c.code()), 'velocity_exceeded');
    }
    expect(await s.stack.balance(c.accountId)).toBe(100_000 - 500);
    tally.held('velocity-burst');
  });
});
