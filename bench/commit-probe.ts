// What the disk allows: durable SQLite commits (WAL + synchronous=FULL, as the gateway opens its file) measured for a
// fixed time, one row per commit — bare, or one ledger entry with its outbox row through the real Ledger.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { openDatabase } from '../gateway/db/open.js';
import { Ledger } from '../gateway/ledger/ledger.js';
import { PaymentRepository } from '../gateway/payments/repository.js';

export interface CommitRun {
  commits: number;
  perSec: number;
  /** ms per commit, one value per commit. */
  latencies: number[];
}

/** A bare table: one single-row INSERT per commit. */
export function openRawCommitTable(file: string): (payload: string) => void {
  const db = new Database(file);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${String(mode)})`);
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  return (payload) => {
    insert.run(payload);
  };
}

/** The gateway's schema: one authorization entry and its outbox row per transaction, as Settlement writes them. */
export function openLedgerCommits(file: string): () => void {
  const db = openDatabase(file);
  const ledger = new Ledger(db);
  const repo = new PaymentRepository(db);
  const append = db.transaction(() => {
    const now = Date.now();
    const entry = ledger.append({
      entryId: randomUUID(),
      type: 'authorization',
      mode: 'offline',
      paymentId: randomUUID(),
      authorizationId: `a_${randomUUID()}`,
      amount: 100,
      currency: 'JPY',
      accountId: '0123456789abcdef',
      deviceId: 'fedcba9876543210',
      counter: 1,
      laneId: 'lane-1',
      registerId: 'register-1',
      occurredAt: new Date(now).toISOString(),
    });
    repo.enqueueLedgerEntry(entry.seq, now);
  });
  return () => append.immediate();
}

/** Runs `commit` back to back for durationMs (synchronous: this blocks the event loop, as the gateway's commits do). */
export function timeCommits(commit: () => void, durationMs: number): CommitRun {
  const latencies: number[] = [];
  const started = performance.now();
  let now = started;
  while (now - started < durationMs) {
    commit();
    const after = performance.now();
    latencies.push(after - now);
    now = after;
  }
  return { commits: latencies.length, perSec: latencies.length / ((now - started) / 1000), latencies };
}
