// The payment as registers see it (CONTRACT §2), its states and the moves allowed between them.
// The row type mirrors the `payments` table; toApiPayment is the only place that shapes the wire form.
import type { DeclineReason } from '../decline-reasons.js';

export const PAYMENT_STATES = [
  'awaiting_scan',
  'authorizing',
  'approved',
  'declined',
  'cancelled',
  'expired',
  'voided',
  'refunded',
  'partially_refunded',
] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

/** States a payment never leaves on its own; only an approval can still be voided or refunded. */
export const SETTLED_STATES: ReadonlySet<PaymentState> = new Set([
  'approved',
  'declined',
  'cancelled',
  'expired',
  'voided',
  'refunded',
  'partially_refunded',
]);

export type PaymentMode = 'online' | 'offline';

export interface BasketLine {
  category: string;
  amount: number;
}

export interface PaymentRow {
  id: string;
  register_id: string;
  lane_id: string;
  state: PaymentState;
  amount: number;
  currency: string;
  order_ref: string;
  basket_json: string | null;
  mode: PaymentMode | null;
  approved: 0 | 1 | null;
  reason: DeclineReason | null;
  authorization_id: string | null;
  account_id: string | null;
  device_id: string | null;
  counter: number | null;
  code_kind: 'pc1' | 'numeric' | null;
  code_hash: string | null;
  refunded_amount: number;
  created_at: number;
  scan_deadline_at: number | null;
  authorize_deadline_at: number | null;
  decided_at: number | null;
  updated_at: number;
}

export interface Decision {
  approved: boolean;
  reason?: DeclineReason;
  authorizationId?: string;
}

export interface Payment {
  id: string;
  state: PaymentState;
  amount: number;
  currency: string;
  orderRef: string;
  laneId: string;
  registerId: string;
  basket?: BasketLine[];
  mode?: PaymentMode;
  decision?: Decision;
  accountId?: string;
  refundedAmount?: number;
  createdAt: string;
  decidedAt?: string;
}

export function toApiPayment(row: PaymentRow): Payment {
  const payment: Payment = {
    id: row.id,
    state: row.state,
    amount: row.amount,
    currency: row.currency,
    orderRef: row.order_ref,
    laneId: row.lane_id,
    registerId: row.register_id,
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.basket_json !== null) payment.basket = JSON.parse(row.basket_json) as BasketLine[];
  if (row.mode !== null) payment.mode = row.mode;
  if (row.approved !== null) {
    const decision: Decision = { approved: row.approved === 1 };
    if (row.reason !== null) decision.reason = row.reason;
    if (row.authorization_id !== null && row.approved === 1) decision.authorizationId = row.authorization_id;
    payment.decision = decision;
  }
  if (row.account_id !== null && row.approved === 1) payment.accountId = row.account_id;
  if (row.refunded_amount > 0) payment.refundedAmount = row.refunded_amount;
  if (row.decided_at !== null) payment.decidedAt = new Date(row.decided_at).toISOString();
  return payment;
}
