// The entry hash of CONTRACT §3.2, pinned: SHA-256 hex over prevHash then the hashed fields as a JSON array, absent
// optional fields as null, so that a faster way of computing it can never change what the wallet checks.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entryHash, findChainBreak, GENESIS_HASH, type LedgerEntry, type UnhashedEntry } from './chain.js';

const OFFLINE: UnhashedEntry = {
  seq: 1,
  entryId: 'e1',
  type: 'authorization',
  mode: 'offline',
  paymentId: 'p1',
  authorizationId: 'a1',
  amount: 1200,
  currency: 'JPY',
  accountId: '0123456789abcdef',
  deviceId: 'fedcba9876543210',
  counter: 7,
  laneId: 'lane-1',
  registerId: 'register-1',
  occurredAt: '2026-01-01T00:00:00.000Z',
  prevHash: GENESIS_HASH,
};

describe('entryHash', () => {
  it('is SHA-256 over prevHash and the fields in their fixed order', () => {
    const fields = [1, 'e1', 'authorization', 'offline', 'p1', 'a1', 1200, 'JPY', '0123456789abcdef'];
    const rest = ['fedcba9876543210', 7, 'lane-1', 'register-1', '2026-01-01T00:00:00.000Z'];
    const expected = createHash('sha256')
      .update(GENESIS_HASH)
      .update(JSON.stringify([...fields, ...rest]))
      .digest('hex');
    expect(entryHash(OFFLINE)).toBe(expected);
    expect(expected).toBe('fb419cb59fc3344009758aa53679133da12f405e4553d506f06f14fb90436ef5');
  });

  it('hashes absent optional fields as null', () => {
    const { accountId: _a, deviceId: _d, counter: _c, ...online } = { ...OFFLINE, mode: 'online' as const };
    const values = [1, 'e1', 'authorization', 'online', 'p1', 'a1', 1200, 'JPY', null, null, null];
    const expected = createHash('sha256')
      .update(GENESIS_HASH)
      .update(JSON.stringify([...values, 'lane-1', 'register-1', '2026-01-01T00:00:00.000Z']))
      .digest('hex');
    expect(entryHash(online)).toBe(expected);
  });

  it('links: a changed field breaks the chain at its entry', () => {
    const first: LedgerEntry = { ...OFFLINE, hash: entryHash(OFFLINE) };
    const second: LedgerEntry = { ...OFFLINE, seq: 2, entryId: 'e2', prevHash: first.hash, hash: '' };
    second.hash = entryHash(second);
    expect(findChainBreak([first, second], 0, GENESIS_HASH)).toBeNull();
    expect(findChainBreak([first, { ...second, amount: 1300 }], 0, GENESIS_HASH)).toEqual({
      seq: 2,
      problem: 'hash_mismatch',
    });
  });
});
