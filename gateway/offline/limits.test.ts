// The limits in force: the risk feed's changes over config, name by name, each validated by the config schema.
import { describe, expect, it } from 'vitest';
import { OfflineConfigSchema } from '../config.js';
import { mergeLimits } from './limits.js';

const config = OfflineConfigSchema.parse({ storeLimit: 100_000 });

describe('mergeLimits', () => {
  it('is the config when the feed never changed a limit', () => {
    expect(mergeLimits(config, null)).toEqual({ limits: config, fromFeed: [], ignored: [] });
  });

  it('lays the feed’s names over the config, the rest untouched', () => {
    const merged = mergeLimits(
      config,
      JSON.stringify({ perTransactionLimit: 2_000, restrictedCategories: ['alcohol'] }),
    );
    expect(merged.limits).toEqual({
      ...config,
      perTransactionLimit: 2_000,
      restrictedCategories: ['alcohol'],
    });
    expect(merged.fromFeed).toEqual(['perTransactionLimit', 'restrictedCategories']);
  });

  it('may loosen as well as tighten: the wallet bears the risk and says so', () => {
    expect(mergeLimits(config, '{"storeLimit":500000}').limits.storeLimit).toBe(500_000);
  });

  it('merges velocity name by name', () => {
    const merged = mergeLimits(config, JSON.stringify({ velocity: { maxPayments: 2 } }));
    expect(merged.limits.velocity).toEqual({ ...config.velocity, maxPayments: 2 });
    expect(merged.fromFeed).toEqual(['velocity.maxPayments']);
  });

  it('ignores a bad value or an unknown name, and only that one', () => {
    const merged = mergeLimits(
      config,
      JSON.stringify({
        storeLimit: -5,
        perDeviceLimit: 1.5,
        bogus: 1,
        consecutiveMax: 2,
        velocity: { maxLanes: 0 },
      }),
    );
    expect(merged.limits).toEqual({ ...config, consecutiveMax: 2 });
    expect(merged.fromFeed).toEqual(['consecutiveMax']);
    expect(merged.ignored).toEqual(['storeLimit', 'perDeviceLimit', 'bogus', 'velocity.maxLanes']);
  });

  it('ignores what is not a JSON object', () => {
    for (const stored of ['not json', '[1,2]', '42', 'null']) {
      const merged = mergeLimits(config, stored);
      expect(merged.limits).toBe(config);
      expect(merged.ignored).toHaveLength(1);
    }
  });
});
