// Refunds (CONTRACT §3.1): exactly once by refund id, only for an approved and unreversed authorization
// of the caller's store, never more in total than was authorized; the account is credited in the same transaction.
import { moveMoney } from './accounts.js';
import { findAuthorization, refundedAmount } from './authorization-records.js';
import type { WalletContext } from './context.js';
import { type Db, one, run } from './db.js';
import { WalletError, type WalletErrorCode } from './errors.js';

export interface RefundRequest {
  id: string;
  authorizationId: string;
  amount: number;
}

export interface RefundResult extends RefundRequest {
  status: 'refunded';
}

type RefundFailure = 'not_found' | 'not_refundable' | 'refund_exceeds_payment' | 'id_conflict';
export type RefundOutcome = { ok: true; refund: RefundResult } | { ok: false; code: RefundFailure };

/** Runs inside the caller's transaction; shared by POST /v1/refunds and ledger refund entries. */
export function applyRefund(db: Db, storeId: string, request: RefundRequest, now: number): RefundOutcome {
  const prior = one<RefundRequest & { storeId: string }>(
    db,
    'SELECT id, authorization_id AS authorizationId, amount, store_id AS storeId FROM refunds WHERE id = ?',
    request.id,
  );
  if (prior !== undefined) return repeatOf(prior, storeId, request);
  const authorization = findAuthorization(db, request.authorizationId);
  if (authorization === undefined || authorization.store_id !== storeId)
    return { ok: false, code: 'not_found' };
  if (authorization.status !== 'approved' || authorization.reversed === 1)
    return { ok: false, code: 'not_refundable' };
  if (refundedAmount(db, request.authorizationId) + request.amount > authorization.amount!) {
    return { ok: false, code: 'refund_exceeds_payment' };
  }
  run(
    db,
    'INSERT INTO refunds (id, authorization_id, store_id, amount, created_at) VALUES (?, ?, ?, ?, ?)',
    request.id,
    request.authorizationId,
    storeId,
    request.amount,
    now,
  );
  moveMoney(db, authorization.account_id!, request.amount, `refund:${request.id}`, now);
  return { ok: true, refund: refunded(request) };
}

function repeatOf(
  prior: RefundRequest & { storeId: string },
  storeId: string,
  request: RefundRequest,
): RefundOutcome {
  const same =
    prior.storeId === storeId &&
    prior.authorizationId === request.authorizationId &&
    prior.amount === request.amount;
  return same ? { ok: true, refund: refunded(prior) } : { ok: false, code: 'id_conflict' };
}

function refunded(request: RefundRequest): RefundResult {
  return {
    id: request.id,
    authorizationId: request.authorizationId,
    amount: request.amount,
    status: 'refunded',
  };
}

const FAILURE_MESSAGES: Record<RefundFailure, string> = {
  not_found: 'no such authorization for this store',
  not_refundable: 'only an approved, unreversed authorization can be refunded',
  refund_exceeds_payment: 'refunds would exceed the authorized amount',
  id_conflict: 'this refund id was used with other values',
};

export function refund(context: WalletContext, storeId: string, request: RefundRequest): RefundResult {
  const { db } = context;
  const outcome = db.transaction(() => applyRefund(db, storeId, request, context.clock())).immediate();
  if (!outcome.ok)
    throw new WalletError(outcome.code satisfies WalletErrorCode, FAILURE_MESSAGES[outcome.code]);
  return outcome.refund;
}
