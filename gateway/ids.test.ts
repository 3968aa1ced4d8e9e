// Time-ordered ids: the UUID version 7 layout (time, version, variant), order by creation time, and no repeats.
import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId', () => {
  it('is a UUID version 7 whose first 48 bits are the unix ms', () => {
    const ms = Date.UTC(2026, 11, 2, 8, 15, 30, 123);
    const id = timeOrderedId(ms);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
    expect(timeOrderedId(0)).toMatch(/^00000000-0000-7/);
    expect(timeOrderedId(2 ** 48 - 1)).toMatch(/^ffffffff-ffff-7/);
  });

  it('sorts by creation time as text, the order the B-tree keeps', () => {
    const base = Date.UTC(2026, 0, 1);
    const ids = [5, 1, 4_000_000, 2, 256, 65_536].map((offset) => ({
      offset,
      id: timeOrderedId(base + offset),
    }));
    const byText = [...ids].sort((a, b) => (a.id < b.id ? -1 : 1)).map((x) => x.offset);
    expect(byText).toEqual([1, 2, 5, 256, 65_536, 4_000_000]);
  });

  it('never repeats, across many ids in the same millisecond and past the random pool', () => {
    const ms = Date.now();
    const ids = new Set(Array.from({ length: 5_000 }, () => timeOrderedId(ms)));
    expect(ids.size).toBe(5_000);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });

  it('refuses a time it cannot hold', () => {
    expect(() => timeOrderedId(-1)).toThrow(RangeError);
    expect(() => timeOrderedId(2 ** 48)).toThrow(RangeError);
    expect(() => timeOrderedId(Number.NaN)).toThrow(RangeError);
  });
});
