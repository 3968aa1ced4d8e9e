// The authorizations table, shared by online authorization, reversals, refunds and ledger ingest:
// one row per authorization id, whatever arrived first (the request, an offline approval, or a reversal).
import type { DeclineReason } from '../gateway/decline-reasons.js';
import { type Db, one, run } from './db.js';
import { WalletError } from './errors.js';

export interface AuthorizationRow {
  id: string;
  store_id: string;
  origin: 'online' | 'offline' | 'reversal';
  status: 'approved' | 'declined';
  reason: string | null;
  lane_id: string | null;
  account_id: string | null;
  device_id: string | null;
  counter: number | null;
  amount: number | null;
  currency: string | null;
  reversed: number;
}

export interface AuthorizationResult {
  id: string;
  status: 'approved' | 'declined' | 'pending';
  reason?: string;
  accountId?: string;
  deviceId?: string;
}

export interface NewAuthorization {
  id: string;
  storeId: string;
  origin: 'online' | 'offline';
  status: 'approved' | 'declined';
  reason?: DeclineReason | undefined;
  laneId: string;
  accountId?: string | undefined;
  deviceId?: string | undefined;
  counter?: number | undefined;
  amount: number;
  currency: string;
  codeSha256?: string | undefined;
  requestedAt?: number | undefined;
}

export function findAuthorization(db: Db, id: string): AuthorizationRow | undefined {
  return one<AuthorizationRow>(db, 'SELECT * FROM authorizations WHERE id = ?', id);
}

/** The row for `id` if it belongs to `storeId`; another store's id is refused, never shown. */
export function ownAuthorization(db: Db, id: string, storeId: string): AuthorizationRow | undefined {
  const row = findAuthorization(db, id);
  if (row !== undefined && row.store_id !== storeId) {
    throw new WalletError('id_conflict', `authorization id ${id} belongs to another store`);
  }
  return row;
}

export function insertAuthorization(db: Db, record: NewAuthorization, now: number): void {
  run(
    db,
    `INSERT INTO authorizations (id, store_id, origin, status, reason, lane_id, account_id, device_id, counter,
       amount, currency, code_sha256, requested_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    record.id,
    record.storeId,
    record.origin,
    record.status,
    record.reason ?? null,
    record.laneId,
    record.accountId ?? null,
    record.deviceId ?? null,
    record.counter ?? null,
    record.amount,
    record.currency,
    record.codeSha256 ?? null,
    record.requestedAt ?? null,
    now,
  );
}

/** A reversal for an id never seen: a declined, reversed row that blocks any later approval of the id. */
export function insertTombstone(db: Db, id: string, storeId: string, now: number): void {
  run(
    db,
    `INSERT INTO authorizations (id, store_id, origin, status, reason, created_at, reversed, reversed_at)
     VALUES (?, ?, 'reversal', 'declined', 'wallet_declined', ?, 1, ?)`,
    id,
    storeId,
    now,
    now,
  );
}

export function markReversed(db: Db, id: string, now: number): void {
  run(db, 'UPDATE authorizations SET reversed = 1, reversed_at = ? WHERE id = ?', now, id);
}

export function refundedAmount(db: Db, authorizationId: string): number {
  return one<{ total: number }>(
    db,
    'SELECT COALESCE(SUM(amount), 0) AS total FROM refunds WHERE authorization_id = ?',
    authorizationId,
  )!.total;
}

/** The answer for a row; the same row always gives the same answer, so repeats see the first result. */
export function resultOf(row: AuthorizationRow): AuthorizationResult {
  const result: AuthorizationResult = { id: row.id, status: row.status };
  if (row.reason !== null) result.reason = row.reason;
  if (row.account_id !== null) result.accountId = row.account_id;
  if (row.device_id !== null) result.deviceId = row.device_id;
  return result;
}
