// Reversals (CONTRACT §3.1): credit an approved authorization back once, minus what was already refunded;
// for an id never seen, leave a tombstone so a late request with that id is declined and never debits.
import { moveMoney } from './accounts.js';
import { findAuthorization, insertTombstone, markReversed, refundedAmount } from './authorization-records.js';
import type { WalletContext } from './context.js';
import type { Db } from './db.js';
import { WalletError } from './errors.js';

export type ReversalOutcome = { ok: true; creditedAmount: number } | { ok: false; code: 'id_conflict' };

/** Runs inside the caller's transaction; shared by the reversal endpoint and ledger void/reversal entries. */
export function applyReversal(
  db: Db,
  storeId: string,
  authorizationId: string,
  now: number,
): ReversalOutcome {
  const row = findAuthorization(db, authorizationId);
  if (row === undefined) {
    insertTombstone(db, authorizationId, storeId, now);
    return { ok: true, creditedAmount: 0 };
  }
  if (row.store_id !== storeId) return { ok: false, code: 'id_conflict' };
  if (row.reversed === 1) return { ok: true, creditedAmount: 0 };
  markReversed(db, authorizationId, now);
  if (row.status !== 'approved') return { ok: true, creditedAmount: 0 };
  const creditedAmount = row.amount! - refundedAmount(db, authorizationId);
  if (creditedAmount > 0) moveMoney(db, row.account_id!, creditedAmount, `reversal:${authorizationId}`, now);
  return { ok: true, creditedAmount };
}

export function reverseAuthorization(
  context: WalletContext,
  storeId: string,
  authorizationId: string,
): { id: string; status: 'reversed' } {
  const { db } = context;
  const outcome = db
    .transaction(() => applyReversal(db, storeId, authorizationId, context.clock()))
    .immediate();
  if (!outcome.ok)
    throw new WalletError('id_conflict', `authorization id ${authorizationId} belongs to another store`);
  return { id: authorizationId, status: 'reversed' };
}
