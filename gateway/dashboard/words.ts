// What a person reads for each decline reason and payment state, on the dashboard and on the cashier's lane view.
// Typed against the lists in decline-reasons.ts and payment.ts, so a new reason or state cannot go unexplained.
import type { DeclineReason } from '../decline-reasons.js';
import type { PaymentState } from '../payments/payment.js';

export const REASON_TEXT: Record<DeclineReason, string> = {
  malformed_code: 'Not a payment code',
  unknown_issuer_key: 'Code from an unknown issuer',
  issuer_key_revoked: 'Code from a revoked issuer key',
  bad_certificate_signature: 'Forged or damaged code',
  certificate_expired: 'Wallet app needs to be renewed',
  bad_code_signature: 'Forged or damaged code',
  code_expired: 'Code too old: ask for a fresh one',
  code_from_future: "Phone's clock is wrong",
  code_replayed: 'Code already used',
  account_frozen: 'Account frozen',
  device_revoked: 'Phone blocked by the wallet',
  offline_limit_exceeded: 'Over the offline limit',
  restricted_category_offline: 'Item not allowed while offline',
  new_device_offline: 'New phone: not accepted offline',
  offline_stale: 'Offline too long: risk list out of date',
  online_required: 'Needs the wallet online',
  velocity_exceeded: 'Too many payments in a short time',
  insufficient_funds: 'Not enough money in the wallet',
  wallet_declined: 'Declined by the wallet',
  scan_timeout: 'No code was scanned in time',
};

export const STATE_TEXT: Record<PaymentState, string> = {
  awaiting_scan: 'waiting for scan',
  authorizing: 'checking',
  approved: 'approved',
  declined: 'declined',
  cancelled: 'cancelled',
  expired: 'expired',
  voided: 'voided',
  refunded: 'refunded',
  partially_refunded: 'partly refunded',
};

/** The words for a reason the gateway may not know yet (a newer wallet): the code itself. */
export function reasonText(reason: string): string {
  return (REASON_TEXT as Record<string, string>)[reason] ?? reason;
}
