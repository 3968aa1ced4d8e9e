// Every decline reason a register can be shown (CONTRACT §1.1 and §2). A decline is data, not an exception.
export const CODE_CHECK_REASONS = [
  'malformed_code',
  'unknown_issuer_key',
  'issuer_key_revoked',
  'bad_certificate_signature',
  'certificate_expired',
  'bad_code_signature',
  'code_expired',
  'code_from_future',
  'code_replayed',
  'account_frozen',
  'device_revoked',
] as const;

export const DECLINE_REASONS = [
  ...CODE_CHECK_REASONS,
  'offline_limit_exceeded',
  'restricted_category_offline',
  'new_device_offline',
  'offline_stale',
  'online_required',
  'velocity_exceeded',
  'insufficient_funds',
  'wallet_declined',
  'scan_timeout',
] as const;

export type CodeCheckReason = (typeof CODE_CHECK_REASONS)[number];
export type DeclineReason = (typeof DECLINE_REASONS)[number];

const KNOWN = new Set<string>(DECLINE_REASONS);

export function isDeclineReason(value: unknown): value is DeclineReason {
  return typeof value === 'string' && KNOWN.has(value);
}
