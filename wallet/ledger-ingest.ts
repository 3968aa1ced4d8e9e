// Ledger upload (CONTRACT §3.2): the store's hash-chained entries are checked against the chain head the wallet
// keeps per store, and each new entry is applied exactly once — all of a batch in one transaction, or nothing.
// Offline approvals the wallet cannot honour are `rejected` (the store's losses), yet still advance the chain.
import type { DeclineReason } from '../gateway/decline-reasons.js';
import { entryHash, findChainBreak, GENESIS_HASH, type LedgerEntry } from '../gateway/ledger/chain.js';
import { type AccountRow, type Charge, findAccount } from './accounts.js';
import { type AuthorizationRow, findAuthorization, insertAuthorization } from './authorization-records.js';
import type { WalletContext } from './context.js';
import { all, type Db, one, run } from './db.js';
import { counterAlreadyPaid, type DeviceRow, findDevice, raiseCounter } from './devices.js';
import { WalletError } from './errors.js';
import { applyRefund } from './refunds.js';
import { applyReversal } from './reversals.js';

export const LEDGER_LIMITS = { batchEntriesMax: 1_000, settledPageMax: 10_000 } as const;

export interface LedgerBatch {
  storeId: string;
  batchId: string;
  entries: LedgerEntry[];
}

export interface EntryResult {
  entryId: string;
  status: 'settled' | 'rejected';
  reason?: string;
}

export interface BatchResult {
  acceptedThroughSeq: number;
  results: EntryResult[];
}

type Outcome = { status: 'settled' } | { status: 'rejected'; reason: string };
const SETTLED: Outcome = { status: 'settled' };
const rejected = (reason: string): Outcome => ({ status: 'rejected', reason });

interface Head {
  seq: number;
  hash: string;
}

interface StoredEntryRow {
  seq: number;
  entry_id: string;
  hash: string;
  entry_json: string;
  status: 'settled' | 'rejected';
  reason: string | null;
}

export function ingestBatch(context: WalletContext, batch: LedgerBatch): BatchResult {
  const { db } = context;
  return db
    .transaction(() => {
      const prior = one<{ response_json: string }>(
        db,
        'SELECT response_json FROM ledger_batches WHERE store_id = ? AND batch_id = ?',
        batch.storeId,
        batch.batchId,
      );
      if (prior !== undefined) return JSON.parse(prior.response_json) as BatchResult;
      const now = context.clock();
      const head = chainHead(db, batch.storeId);
      assertChain(db, batch.storeId, batch.entries, head);
      const memo = new BatchMemo(db);
      const results = batch.entries.map((entry) =>
        entry.seq <= head.seq
          ? storedResult(db, batch.storeId, entry.seq)
          : applyAndRecord(memo, batch.storeId, entry, now),
      );
      memo.flush();
      const last = batch.entries.at(-1);
      const newHead = last !== undefined && last.seq > head.seq ? { seq: last.seq, hash: last.hash } : head;
      if (newHead !== head) saveHead(db, batch.storeId, newHead, now);
      const response: BatchResult = { acceptedThroughSeq: newHead.seq, results };
      run(
        db,
        'INSERT INTO ledger_batches (store_id, batch_id, response_json, created_at) VALUES (?, ?, ?, ?)',
        batch.storeId,
        batch.batchId,
        JSON.stringify(response),
        now,
      );
      return response;
    })
    .immediate();
}

function chainHead(db: Db, storeId: string): Head {
  const row = one<{ last_seq: number; last_hash: string }>(
    db,
    'SELECT last_seq, last_hash FROM chain_heads WHERE store_id = ?',
    storeId,
  );
  return row === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: row.last_seq, hash: row.last_hash };
}

function saveHead(db: Db, storeId: string, head: Head, now: number): void {
  run(
    db,
    `INSERT INTO chain_heads (store_id, last_seq, last_hash, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (store_id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash, updated_at = excluded.updated_at`,
    storeId,
    head.seq,
    head.hash,
    now,
  );
}

function chainBroken(seq: number, problem: string): WalletError {
  return new WalletError('chain_broken', `the ledger chain breaks at seq ${seq}: ${problem}`, {
    details: { seq, problem },
  });
}

/** Old entries must be exactly what was applied; new ones must continue the head link by link. */
function assertChain(db: Db, storeId: string, entries: LedgerEntry[], head: Head): void {
  entries.forEach((entry, i) => {
    if (i > 0 && entry.seq !== entries[i - 1]!.seq + 1) throw chainBroken(entry.seq, 'seq_gap');
  });
  for (const entry of entries) {
    if (entry.seq <= head.seq) assertSameAsStored(db, storeId, entry);
  }
  const fresh = entries.filter((entry) => entry.seq > head.seq);
  const problem = findChainBreak(fresh, head.seq, head.hash);
  if (problem !== null) throw chainBroken(problem.seq, problem.problem);
  // Ids used by earlier batches are caught by the table's UNIQUE (store_id, entry_id) at insert: see recordEntry.
  const entryIds = new Set<string>();
  for (const entry of fresh) {
    if (entryIds.has(entry.entryId)) throw chainBroken(entry.seq, 'duplicate_entry_id');
    entryIds.add(entry.entryId);
  }
}

function assertSameAsStored(db: Db, storeId: string, entry: LedgerEntry): void {
  const stored = storedRow(db, storeId, entry.seq);
  const same =
    stored !== undefined &&
    stored.hash === entry.hash &&
    stored.entry_id === entry.entryId &&
    entryHash(entry) === entry.hash;
  if (!same) throw chainBroken(entry.seq, 'hash_mismatch');
}

function storedRow(db: Db, storeId: string, seq: number): StoredEntryRow | undefined {
  return one<StoredEntryRow>(db, 'SELECT * FROM ledger_entries WHERE store_id = ? AND seq = ?', storeId, seq);
}

function storedResult(db: Db, storeId: string, seq: number): EntryResult {
  const row = storedRow(db, storeId, seq)!;
  return row.reason === null
    ? { entryId: row.entry_id, status: row.status }
    : { entryId: row.entry_id, status: row.status, reason: row.reason };
}

/**
 * What one batch's transaction reads once and writes once: the devices its entries name (a device cannot change
 * inside the transaction but for its counter), each device's highest counter, raised at the end, and the accounts
 * its offline approvals debit, each debited by one UPDATE at the end (every debit still has its own movement row,
 * whose UNIQUE cause keeps it to one). Reversals and refunds move money themselves: the debits are written before
 * one runs, and the accounts read again after.
 */
class BatchMemo {
  readonly db: Db;
  readonly #devices = new Map<string, DeviceRow | undefined>();
  readonly #counters = new Map<string, number>();
  readonly #accounts = new Map<string, MemoAccount | undefined>();

  constructor(db: Db) {
    this.db = db;
  }

  device(deviceId: string): DeviceRow | undefined {
    if (!this.#devices.has(deviceId)) this.#devices.set(deviceId, findDevice(this.db, deviceId));
    return this.#devices.get(deviceId);
  }

  /**
   * True when an approved authorization other than `exceptId` already used this code. Every approval raises the
   * device's max_counter (online at once, offline by this memo), so a counter above every one seen so far was
   * never paid and needs no query.
   */
  counterAlreadyPaid(device: DeviceRow, counter: number, exceptId: string): boolean {
    const highest = Math.max(device.max_counter, this.#counters.get(device.id) ?? -1);
    return counter <= highest && counterAlreadyPaid(this.db, device.id, counter, exceptId);
  }

  raiseCounter(deviceId: string, counter: number): void {
    this.#counters.set(deviceId, Math.max(this.#counters.get(deviceId) ?? counter, counter));
  }

  /** The checks of chargeAccount (accounts.ts) against the balance left after this batch's earlier debits. */
  charge(charge: Charge, now: number): DeclineReason | null {
    const account = this.#account(charge.accountId);
    if (account === undefined) return 'wallet_declined';
    if (account.frozen === 1) return 'account_frozen';
    if (account.currency !== charge.currency) return 'wallet_declined';
    if (account.balance - account.debit < charge.amount) return 'insufficient_funds';
    run(
      this.db,
      'INSERT INTO movements (account_id, amount, cause, created_at) VALUES (?, ?, ?, ?)',
      charge.accountId,
      -charge.amount,
      charge.cause,
      now,
    );
    account.debit += charge.amount;
    return null;
  }

  /** Writes the debits so far and forgets the accounts (before anything else moves money, and at the end). */
  flushDebits(): void {
    for (const [accountId, account] of this.#accounts) {
      if (account === undefined || account.debit === 0) continue;
      run(this.db, 'UPDATE accounts SET balance = balance - ? WHERE id = ?', account.debit, accountId);
    }
    this.#accounts.clear();
  }

  flush(): void {
    this.flushDebits();
    for (const [deviceId, counter] of this.#counters) raiseCounter(this.db, deviceId, counter);
  }

  #account(accountId: string): MemoAccount | undefined {
    if (!this.#accounts.has(accountId)) {
      const row = findAccount(this.db, accountId);
      this.#accounts.set(accountId, row === undefined ? undefined : { ...row, debit: 0 });
    }
    return this.#accounts.get(accountId);
  }
}

interface MemoAccount extends AccountRow {
  /** Debited by this batch and not yet written to the balance. */
  debit: number;
}

function applyAndRecord(memo: BatchMemo, storeId: string, entry: LedgerEntry, now: number): EntryResult {
  const outcome = applyEntry(memo, storeId, entry, now);
  const reason = outcome.status === 'rejected' ? outcome.reason : null;
  recordEntry(memo.db, storeId, entry, outcome.status, reason, now);
  return reason === null
    ? { entryId: entry.entryId, status: 'settled' }
    : { entryId: entry.entryId, status: 'rejected', reason };
}

/** An entry id an earlier batch used makes the insert fail: the whole batch rolls back as a chain break. */
function recordEntry(
  db: Db,
  storeId: string,
  entry: LedgerEntry,
  status: Outcome['status'],
  reason: string | null,
  now: number,
): void {
  try {
    run(
      db,
      `INSERT INTO ledger_entries (store_id, seq, entry_id, hash, entry_json, status, reason, applied_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      storeId,
      entry.seq,
      entry.entryId,
      entry.hash,
      JSON.stringify(entry),
      status,
      reason,
      now,
    );
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' && message?.includes('entry_id')) {
      throw chainBroken(entry.seq, 'duplicate_entry_id');
    }
    throw error;
  }
}

function applyEntry(memo: BatchMemo, storeId: string, entry: LedgerEntry, now: number): Outcome {
  const { db } = memo;
  switch (entry.type) {
    case 'authorization':
      return entry.mode === 'online'
        ? settleOnline(db, storeId, entry)
        : settleOffline(memo, storeId, entry, now);
    case 'void':
    case 'reversal': {
      memo.flushDebits();
      const outcome = applyReversal(db, storeId, entry.authorizationId, now);
      return outcome.ok ? SETTLED : rejected(outcome.code);
    }
    case 'refund': {
      memo.flushDebits();
      const outcome = applyRefund(
        db,
        storeId,
        { id: entry.entryId, authorizationId: entry.authorizationId, amount: entry.amount },
        now,
      );
      if (outcome.ok) return SETTLED;
      return rejected(outcome.code === 'not_found' ? 'unknown_authorization' : outcome.code);
    }
  }
}

/** An online approval is settled by the debit the wallet already made; there is no second one. */
function settleOnline(db: Db, storeId: string, entry: LedgerEntry): Outcome {
  const row = findAuthorization(db, entry.authorizationId);
  const matches =
    row !== undefined &&
    row.store_id === storeId &&
    row.status === 'approved' &&
    row.amount === entry.amount &&
    row.currency === entry.currency;
  return matches ? SETTLED : rejected('unknown_authorization');
}

function settleOffline(memo: BatchMemo, storeId: string, entry: LedgerEntry, now: number): Outcome {
  const { db } = memo;
  const row = findAuthorization(db, entry.authorizationId);
  if (row !== undefined) return settleKnown(row, storeId, entry);
  const device = trustedDevice(memo, entry);
  const reason =
    device === null
      ? 'wallet_declined'
      : (offlineDecline(memo, device, entry) ?? chargeOffline(memo, entry, now));
  insertAuthorization(
    db,
    {
      id: entry.authorizationId,
      storeId,
      origin: 'offline',
      status: reason === null ? 'approved' : 'declined',
      reason: reason ?? undefined,
      laneId: entry.laneId,
      accountId: device === null ? undefined : device.account_id,
      deviceId: device === null ? undefined : device.id,
      counter: entry.counter,
      amount: entry.amount,
      currency: entry.currency,
    },
    now,
  );
  return reason === null ? SETTLED : rejected(reason);
}

/** The id was already decided (online, or by an earlier reversal): never a second debit. */
function settleKnown(row: AuthorizationRow, storeId: string, entry: LedgerEntry): Outcome {
  if (row.store_id !== storeId) return rejected('id_conflict');
  if (row.reversed === 1) return rejected('reversed');
  if (row.status === 'declined') return rejected(row.reason ?? 'wallet_declined');
  if (row.amount !== entry.amount || row.currency !== entry.currency) return rejected('amount_mismatch');
  return SETTLED;
}

/** The device the entry names, if it is enrolled here for the account the entry names. */
function trustedDevice(memo: BatchMemo, entry: LedgerEntry): DeviceRow | null {
  if (entry.deviceId === undefined || entry.accountId === undefined) return null;
  const device = memo.device(entry.deviceId);
  return device !== undefined && device.account_id === entry.accountId ? device : null;
}

function offlineDecline(memo: BatchMemo, device: DeviceRow, entry: LedgerEntry): DeclineReason | null {
  if (device.revoked === 1) return 'device_revoked';
  if (entry.counter === undefined) return null;
  // The same code paid twice (say, offline at two stores): the later upload loses.
  if (memo.counterAlreadyPaid(device, entry.counter, entry.authorizationId)) return 'code_replayed';
  memo.raiseCounter(device.id, entry.counter);
  return null;
}

function chargeOffline(memo: BatchMemo, entry: LedgerEntry, now: number): DeclineReason | null {
  return memo.charge(
    {
      accountId: entry.accountId!,
      amount: entry.amount,
      currency: entry.currency,
      cause: `authorization:${entry.authorizationId}`,
    },
    now,
  );
}

export interface SettledEntry extends LedgerEntry {
  status: 'settled' | 'rejected';
  reason?: string;
}

export function settledEntries(db: Db, storeId: string, afterSeq: number, limit: number): SettledEntry[] {
  return all<StoredEntryRow>(
    db,
    'SELECT * FROM ledger_entries WHERE store_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    storeId,
    afterSeq,
    limit,
  ).map((row) => ({
    ...(JSON.parse(row.entry_json) as LedgerEntry),
    status: row.status,
    ...(row.reason === null ? {} : { reason: row.reason }),
  }));
}
