// The offline rules and the velocity rule as pure functions: each bound at, just under and just over, the order
// in which reasons win, and a property tying "approved" to every bound holding at once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OfflineConfigSchema } from '../config.js';
import {
  decideOffline,
  type OfflineDeviceState,
  type OfflineLimits,
  type OfflinePayment,
  type OfflineStoreState,
  velocityExceeded,
} from './rules.js';

const limits: OfflineLimits = OfflineConfigSchema.parse({});
const NOW = Date.UTC(2026, 0, 1);
const DAY_SEC = 86_400;

const device = (state: Partial<OfflineDeviceState> = {}): OfflineDeviceState => ({
  unsyncedTotal: 0,
  consecutive: 0,
  ...state,
});
const store = (state: Partial<OfflineStoreState> = {}): OfflineStoreState => ({
  unsyncedTotal: 0,
  feedRefreshedAt: NOW - 60_000,
  ...state,
});
const payment = (fields: Partial<OfflinePayment> = {}): OfflinePayment => ({
  amount: 1_000,
  basket: null,
  offlineLimit: 10_000,
  enrolledAt: NOW / 1000 - 30 * DAY_SEC,
  ...fields,
});

function decide(
  fields: {
    device?: Partial<OfflineDeviceState>;
    store?: Partial<OfflineStoreState>;
  } & Partial<OfflinePayment>,
  with_: Partial<OfflineLimits> = {},
) {
  const { device: d, store: s, ...p } = fields;
  return decideOffline({ ...limits, ...with_ }, device(d), store(s), payment(p), NOW);
}

const over = (limit: string) => ({ approved: false, reason: 'offline_limit_exceeded', limit });

describe('the defaults of CONTRACT §4', () => {
  it('are the config defaults', () => {
    expect(limits).toMatchObject({
      perTransactionLimit: 5_000,
      perDeviceLimit: 10_000,
      consecutiveMax: 5,
      storeLimit: 300_000,
      feedMaxAgeSec: 86_400,
      deviceMinAgeSec: 86_400,
      restrictedCategories: ['tobacco', 'gift_card', 'prepaid_card'],
      velocity: { enabled: true, windowSec: 300, maxPayments: 5, maxLanes: 2 },
    });
  });

  it('approve an ordinary payment', () => {
    expect(decide({})).toEqual({ approved: true });
  });
});

describe('each bound at, just under and just over', () => {
  it('per transaction: amount ≤ perTransactionLimit', () => {
    expect(decide({ amount: 4_999 })).toEqual({ approved: true });
    expect(decide({ amount: 5_000 })).toEqual({ approved: true });
    expect(decide({ amount: 5_001 })).toEqual(over('per_transaction'));
  });

  it('per device: unsynced total with this payment ≤ perDeviceLimit', () => {
    expect(decide({ amount: 4_999, device: { unsyncedTotal: 5_000 } })).toEqual({ approved: true });
    expect(decide({ amount: 5_000, device: { unsyncedTotal: 5_000 } })).toEqual({ approved: true });
    expect(decide({ amount: 5_000, device: { unsyncedTotal: 5_001 } })).toEqual(over('per_device'));
  });

  it("per device: capped by the certificate's offlineLimit when that is lower", () => {
    expect(decide({ amount: 2_999, offlineLimit: 3_000 })).toEqual({ approved: true });
    expect(decide({ amount: 3_000, offlineLimit: 3_000 })).toEqual({ approved: true });
    expect(decide({ amount: 3_001, offlineLimit: 3_000 })).toEqual(over('per_device'));
    expect(decide({ amount: 1, offlineLimit: 0 })).toEqual(over('per_device'));
  });

  it('consecutive offline payments before this one < consecutiveMax', () => {
    expect(decide({ device: { consecutive: 3 } })).toEqual({ approved: true });
    expect(decide({ device: { consecutive: 4 } })).toEqual({ approved: true });
    expect(decide({ device: { consecutive: 5 } })).toEqual(over('consecutive'));
  });

  it('store: unsynced total with this payment ≤ storeLimit', () => {
    expect(decide({ amount: 5_000, store: { unsyncedTotal: 294_999 } })).toEqual({ approved: true });
    expect(decide({ amount: 5_000, store: { unsyncedTotal: 295_000 } })).toEqual({ approved: true });
    expect(decide({ amount: 5_000, store: { unsyncedTotal: 295_001 } })).toEqual(over('store'));
  });

  it('feed: refreshed at most feedMaxAgeSec ago, else offline_stale; never refreshed is stale', () => {
    const maxAgeMs = DAY_SEC * 1000;
    expect(decide({ store: { feedRefreshedAt: NOW - maxAgeMs + 1 } })).toEqual({ approved: true });
    expect(decide({ store: { feedRefreshedAt: NOW - maxAgeMs } })).toEqual({ approved: true });
    const stale = { approved: false, reason: 'offline_stale' };
    expect(decide({ store: { feedRefreshedAt: NOW - maxAgeMs - 1 } })).toEqual(stale);
    expect(decide({ store: { feedRefreshedAt: null } })).toEqual(stale);
  });

  it('device: enrolled at least deviceMinAgeSec ago, else new_device_offline', () => {
    const at = NOW / 1000 - DAY_SEC;
    expect(decide({ enrolledAt: at - 1 })).toEqual({ approved: true });
    expect(decide({ enrolledAt: at })).toEqual({ approved: true });
    expect(decide({ enrolledAt: at + 1 })).toEqual({ approved: false, reason: 'new_device_offline' });
  });

  it('basket: no line in a restricted category (trimmed, any case), else restricted_category_offline', () => {
    const restricted = { approved: false, reason: 'restricted_category_offline' };
    expect(decide({ basket: [{ category: 'food', amount: 1_000 }] })).toEqual({ approved: true });
    expect(decide({ basket: [] })).toEqual({ approved: true });
    expect(
      decide({
        basket: [
          { category: 'food', amount: 1 },
          { category: 'tobacco', amount: 999 },
        ],
      }),
    ).toEqual(restricted);
    expect(decide({ basket: [{ category: ' Gift_Card ', amount: 1_000 }] })).toEqual(restricted);
    expect(
      decide({ basket: [{ category: 'tobacco', amount: 1_000 }] }, { restrictedCategories: [] }),
    ).toEqual({
      approved: true,
    });
  });

  it('offline acceptance switched off: online_required', () => {
    expect(decide({}, { enabled: false })).toEqual({ approved: false, reason: 'online_required' });
  });
});

describe('which reason wins', () => {
  it('stale feed, then restricted category, then new device, then the limits in §4 order', () => {
    const everything = {
      store: { feedRefreshedAt: null, unsyncedTotal: 300_000 },
      basket: [{ category: 'tobacco', amount: 9_000 }],
      enrolledAt: NOW / 1000,
      amount: 9_000,
      device: { unsyncedTotal: 10_000, consecutive: 9 },
    };
    expect(decide(everything)).toMatchObject({ reason: 'offline_stale' });
    const fresh = { ...everything, store: { ...everything.store, feedRefreshedAt: NOW } };
    expect(decide(fresh)).toMatchObject({ reason: 'restricted_category_offline' });
    expect(decide({ ...fresh, basket: null })).toMatchObject({ reason: 'new_device_offline' });
    const old = { ...fresh, basket: null, enrolledAt: 0 };
    expect(decide(old)).toEqual(over('per_transaction'));
    expect(decide({ ...old, amount: 5_000 })).toEqual(over('per_device'));
    expect(decide({ ...old, amount: 5_000, device: { consecutive: 9 } })).toEqual(over('consecutive'));
    expect(decide({ ...old, amount: 5_000, device: {} })).toEqual(over('store'));
  });
});

describe('velocity (both modes)', () => {
  const velocity = limits.velocity;

  it('more than maxPayments in the window', () => {
    expect(velocityExceeded(velocity, { payments: 3, lanes: ['l1'] }, 'l1')).toBe(false);
    expect(velocityExceeded(velocity, { payments: 4, lanes: ['l1'] }, 'l1')).toBe(false);
    expect(velocityExceeded(velocity, { payments: 5, lanes: ['l1'] }, 'l1')).toBe(true);
  });

  it('more than maxLanes in the window, this lane included', () => {
    expect(velocityExceeded(velocity, { payments: 0, lanes: [] }, 'l1')).toBe(false);
    expect(velocityExceeded(velocity, { payments: 2, lanes: ['l1', 'l2'] }, 'l2')).toBe(false);
    expect(velocityExceeded(velocity, { payments: 2, lanes: ['l1', 'l2'] }, 'l3')).toBe(true);
  });

  it('switched off, never', () => {
    const off = { ...velocity, enabled: false };
    expect(velocityExceeded(off, { payments: 1_000, lanes: ['a', 'b', 'c'] }, 'd')).toBe(false);
  });
});

describe('approved exactly when every bound holds', () => {
  it('for any limits, state and payment', () => {
    const money = fc.integer({ min: 0, max: 20_000 });
    fc.assert(
      fc.property(
        fc.record({
          perTransactionLimit: money,
          perDeviceLimit: money,
          consecutiveMax: fc.integer({ min: 1, max: 8 }),
          storeLimit: fc.integer({ min: 0, max: 60_000 }),
          feedMaxAgeSec: fc.integer({ min: 1, max: 200_000 }),
          deviceMinAgeSec: fc.integer({ min: 0, max: 200_000 }),
        }),
        fc.record({ unsyncedTotal: money, consecutive: fc.integer({ min: 0, max: 10 }) }),
        fc.record({
          unsyncedTotal: fc.integer({ min: 0, max: 60_000 }),
          feedRefreshedAt: fc.option(fc.integer({ min: NOW - 300_000_000, max: NOW })),
        }),
        fc.record({
          amount: fc.integer({ min: 1, max: 20_000 }),
          basket: fc.option(
            fc.array(fc.record({ category: fc.constantFrom('food', 'tobacco'), amount: money })),
          ),
          offlineLimit: money,
          enrolledAt: fc.integer({ min: NOW / 1000 - 300_000, max: NOW / 1000 }),
        }),
        (bounds, d, s, p) => {
          const l = { ...limits, ...bounds };
          const holds =
            s.feedRefreshedAt !== null &&
            NOW - s.feedRefreshedAt <= l.feedMaxAgeSec * 1000 &&
            !(p.basket ?? []).some((line) => line.category === 'tobacco') &&
            NOW / 1000 - p.enrolledAt >= l.deviceMinAgeSec &&
            p.amount <= l.perTransactionLimit &&
            d.unsyncedTotal + p.amount <= Math.min(l.perDeviceLimit, p.offlineLimit) &&
            d.consecutive < l.consecutiveMax &&
            s.unsyncedTotal + p.amount <= l.storeLimit;
          expect(decideOffline(l, d, s, p, NOW).approved).toBe(holds);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
