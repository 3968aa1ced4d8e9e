// The gateway's ledger over SQLite: appends hash-chained entries inside the caller's transaction,
// and verifies the chain. Rows are never updated or deleted (triggers in the schema enforce it).
import type { Db } from '../db/open.js';
import {
  type ChainBreak,
  entryHash,
  findChainBreak,
  GENESIS_HASH,
  type LedgerEntry,
  type UnhashedEntry,
} from './chain.js';

export type NewEntry = Omit<UnhashedEntry, 'seq' | 'prevHash'>;

interface LedgerRow {
  seq: number;
  entry_id: string;
  type: LedgerEntry['type'];
  mode: LedgerEntry['mode'];
  payment_id: string;
  authorization_id: string;
  amount: number;
  currency: string;
  account_id: string | null;
  device_id: string | null;
  counter: number | null;
  lane_id: string;
  register_id: string;
  occurred_at: string;
  prev_hash: string;
  hash: string;
}

export function entryFromRow(row: LedgerRow): LedgerEntry {
  const entry: LedgerEntry = {
    seq: row.seq,
    entryId: row.entry_id,
    type: row.type,
    mode: row.mode,
    paymentId: row.payment_id,
    authorizationId: row.authorization_id,
    amount: row.amount,
    currency: row.currency,
    laneId: row.lane_id,
    registerId: row.register_id,
    occurredAt: row.occurred_at,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
  if (row.account_id !== null) entry.accountId = row.account_id;
  if (row.device_id !== null) entry.deviceId = row.device_id;
  if (row.counter !== null) entry.counter = row.counter;
  return entry;
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  headSeq: number;
  headHash: string;
  break?: ChainBreak;
}

export class Ledger {
  readonly #db: Db;
  readonly #head;
  readonly #insert;
  readonly #bySeq;
  readonly #forPayment;

  constructor(db: Db) {
    this.#db = db;
    this.#head = db.prepare<[], { seq: number; hash: string }>(
      'SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1',
    );
    this.#insert = db.prepare(
      `INSERT INTO ledger (seq, entry_id, type, mode, payment_id, authorization_id, amount, currency, account_id,
        device_id, counter, lane_id, register_id, occurred_at, prev_hash, hash)
       VALUES (@seq, @entryId, @type, @mode, @paymentId, @authorizationId, @amount, @currency, @accountId,
        @deviceId, @counter, @laneId, @registerId, @occurredAt, @prevHash, @hash)`,
    );
    this.#bySeq = db.prepare<[number, number], LedgerRow>(
      'SELECT * FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    this.#forPayment = db.prepare<[string], LedgerRow>(
      'SELECT * FROM ledger WHERE payment_id = ? ORDER BY seq',
    );
  }

  head(): { seq: number; hash: string } {
    return this.#head.get() ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Appends one entry. Must run inside the transaction that records the decision it belongs to. */
  append(entry: NewEntry): LedgerEntry {
    if (!this.#db.inTransaction) throw new Error('Ledger.append must run inside a transaction');
    const head = this.head();
    const unhashed: UnhashedEntry = { ...entry, seq: head.seq + 1, prevHash: head.hash };
    const full: LedgerEntry = { ...unhashed, hash: entryHash(unhashed) };
    this.#insert.run({ accountId: null, deviceId: null, counter: null, ...full });
    return full;
  }

  /** Entries after `afterSeq`, at most `limit`. */
  after(afterSeq: number, limit: number): LedgerEntry[] {
    return this.#bySeq.all(afterSeq, limit).map(entryFromRow);
  }

  forPayment(paymentId: string): LedgerEntry[] {
    return this.#forPayment.all(paymentId).map(entryFromRow);
  }

  /** Walks the whole chain in pages; memory stays bounded whatever the ledger's size. */
  verify(pageSize = 10_000): ChainReport {
    let seq = 0;
    let hash = GENESIS_HASH;
    let count = 0;
    for (;;) {
      const page = this.after(seq, pageSize);
      if (page.length === 0) break;
      const problem = findChainBreak(page, seq, hash);
      if (problem) {
        // Report the last good entry, so an operator knows how far the chain holds.
        const good = page.findIndex((e) => e.seq === problem.seq);
        const last = good > 0 ? page[good - 1]! : undefined;
        return {
          ok: false,
          entries: count + Math.max(0, good),
          headSeq: last?.seq ?? seq,
          headHash: last?.hash ?? hash,
          break: problem,
        };
      }
      const last = page[page.length - 1]!;
      seq = last.seq;
      hash = last.hash;
      count += page.length;
    }
    return { ok: true, entries: count, headSeq: seq, headHash: hash };
  }
}
