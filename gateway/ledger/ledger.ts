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

/**
 * The columns an entry is read from, in the order of LedgerRow. Rows are read as arrays: better-sqlite3 builds a
 * named row object column by column, and reading a batch for the ledger upload took twice as long that way.
 */
const ENTRY_COLUMNS = `seq, entry_id, type, mode, payment_id, authorization_id, amount, currency, account_id, device_id,
  counter, lane_id, register_id, occurred_at, prev_hash, hash`;

type LedgerRow = [
  seq: number,
  entryId: string,
  type: LedgerEntry['type'],
  mode: LedgerEntry['mode'],
  paymentId: string,
  authorizationId: string,
  amount: number,
  currency: string,
  accountId: string | null,
  deviceId: string | null,
  counter: number | null,
  laneId: string,
  registerId: string,
  occurredAt: string,
  prevHash: string,
  hash: string,
];

function entryFromRow(row: LedgerRow): LedgerEntry {
  const entry: LedgerEntry = {
    seq: row[0],
    entryId: row[1],
    type: row[2],
    mode: row[3],
    paymentId: row[4],
    authorizationId: row[5],
    amount: row[6],
    currency: row[7],
    laneId: row[11],
    registerId: row[12],
    occurredAt: row[13],
    prevHash: row[14],
    hash: row[15],
  };
  if (row[8] !== null) entry.accountId = row[8];
  if (row[9] !== null) entry.deviceId = row[9];
  if (row[10] !== null) entry.counter = row[10];
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
    this.#bySeq = db
      .prepare<[number, number], LedgerRow>(
        `SELECT ${ENTRY_COLUMNS} FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?`,
      )
      .raw();
    this.#forPayment = db
      .prepare<[string], LedgerRow>(`SELECT ${ENTRY_COLUMNS} FROM ledger WHERE payment_id = ? ORDER BY seq`)
      .raw();
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
