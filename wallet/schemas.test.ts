// The ledger batch body: parseLedgerBatch (a quick check for well-formed batches in front of LedgerBatchSchema)
// gives what the schema gives — the same entries, or the same 400 naming the same field — for valid batches and
// for batches with one field or key broken in every way the generator knows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalletError } from './errors.js';
import { LedgerBatchSchema, parse, parseLedgerBatch } from './schemas.js';

const HEX64 = 'ab'.repeat(32);

function validEntry(seq: number): Record<string, unknown> {
  return {
    seq,
    entryId: `e-${seq}`,
    type: 'authorization',
    mode: 'offline',
    paymentId: `p-${seq}`,
    authorizationId: `a-${seq}`,
    amount: 100,
    currency: 'JPY',
    accountId: '0123456789abcdef',
    deviceId: 'fedcba9876543210',
    counter: seq,
    laneId: 'lane-1',
    registerId: 'register-1',
    occurredAt: '2026-01-01T00:00:00.000Z',
    prevHash: '0'.repeat(64),
    hash: HEX64,
  };
}

/** What a parse ends in: the batch, or the error as the wallet would answer it. */
function outcome(run: () => unknown): unknown {
  try {
    return { ok: run() };
  } catch (error) {
    if (!(error instanceof WalletError)) throw error;
    return { refused: error.toJSON() };
  }
}

function expectSameAsSchema(body: unknown): void {
  expect(outcome(() => parseLedgerBatch(body))).toEqual(outcome(() => parse(LedgerBatchSchema, body)));
}

const ENTRY_KEYS = Object.keys(validEntry(1));

/** Values near and past each field's bounds, of the right type and of wrong ones. */
const ODD_VALUES: unknown[] = [
  null,
  undefined,
  true,
  0,
  -0,
  1,
  -1,
  1.5,
  0xffff_ffff,
  0x1_0000_0000,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  Number.NaN,
  '',
  'a',
  'x'.repeat(128),
  'x'.repeat(129),
  'JPY',
  'jpy',
  'online',
  'offline',
  'refund',
  'void',
  'Offline',
  '0123456789abcdef',
  '0123456789ABCDEF',
  '0123456789abcde',
  HEX64,
  HEX64.toUpperCase(),
  `${HEX64}0`,
  '2026-02-29T00:00:00Z',
  '2028-02-29T23:59:59.5+09:00',
  '2026-13-01T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:00',
  '2026-01-01',
  'a b',
  'id/with/slash',
  [],
  {},
];

const KEYS = [...ENTRY_KEYS, 'extra', '__proto__'];

/** The batch of three valid entries with `key` of the entry at `index` deleted, or set to `value`. */
function withBrokenEntry(index: number, key: string, change: 'set' | 'delete', value?: unknown) {
  const entries = [1, 2, 3].map(validEntry);
  const broken = JSON.parse(JSON.stringify(entries[index])) as Record<string, unknown>;
  if (change === 'delete') delete broken[key];
  else Object.defineProperty(broken, key, { value, enumerable: true, configurable: true, writable: true });
  entries[index] = broken;
  return { storeId: 'store-1', batchId: 'b1-3', entries };
}

describe('parseLedgerBatch', () => {
  it('gives the entries of a valid batch as the schema does, optional fields absent rather than null', () => {
    const entries = [1, 2, 3].map(validEntry);
    entries[1] = { ...entries[1], accountId: null, deviceId: null, counter: null };
    delete entries[2]!.counter;
    const body = { storeId: 'store-1', batchId: 'b1-3', entries };
    expectSameAsSchema(body);
    const batch = parseLedgerBatch(body);
    expect(batch.entries[1]).not.toHaveProperty('accountId');
    expect(batch.entries[2]).not.toHaveProperty('counter');
    expect(batch.entries[0]!.counter).toBe(1);
  });

  it('refuses what the schema refuses, with the same field, for each key of an entry deleted or set to each odd value', () => {
    for (const key of KEYS) {
      expectSameAsSchema(withBrokenEntry(2, key, 'delete'));
      for (const value of ODD_VALUES) expectSameAsSchema(withBrokenEntry(1, key, 'set', value));
    }
  });

  it('answers as the schema does for any string or number in any field', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom(...KEYS),
        fc.oneof(fc.string({ maxLength: 140 }), fc.integer(), fc.double()),
        (index, key, value) => expectSameAsSchema(withBrokenEntry(index, key, 'set', value)),
      ),
      { numRuns: 1_000 },
    );
  });

  it('refuses what the schema refuses for a broken batch around the entries', () => {
    const entries = [validEntry(1)];
    for (const body of [
      null,
      [],
      'batch',
      { batchId: 'b', entries },
      { storeId: 'store/1', batchId: 'b', entries },
      { storeId: 'store-1', batchId: '', entries },
      { storeId: 'store-1', batchId: 'b', entries: {} },
      { storeId: 'store-1', batchId: 'b', entries: [null] },
      { storeId: 'store-1', batchId: 'b', entries: [[]] },
      { storeId: 'store-1', batchId: 'b', entries, extra: 1 },
      {
        storeId: 'store-1',
        batchId: 'b',
        entries: Array.from({ length: 1_001 }, (_, i) => validEntry(i + 1)),
      },
    ]) {
      expectSameAsSchema(body);
      expect(() => parseLedgerBatch(body)).toThrow(WalletError);
    }
    expectSameAsSchema({ storeId: 'store-1', batchId: 'b', entries: [] });
  });
});
