// The offline rules of CONTRACT §4 and the velocity rule, as pure functions of the limits, the device's and the
// store's unsynced state, the payment and the clock. No I/O: state.ts reads SQLite, acceptance.ts calls these
// inside the decision's transaction. The first rule that fails is the decline reason (order in docs/offline.md).
import type { Config } from '../config.js';
import type { DeclineReason } from '../decline-reasons.js';
import type { BasketLine } from '../payments/payment.js';

export type OfflineLimits = Config['offline'];
export type VelocityLimits = OfflineLimits['velocity'];

/** What the device has spent offline that the wallet has not settled yet. */
export interface OfflineDeviceState {
  /** Sum of its offline approvals whose ledger entry is not yet answered by the wallet, minor units. */
  unsyncedTotal: number;
  /** Its offline approvals since its last online approval or settled offline one. */
  consecutive: number;
}

export interface OfflineStoreState {
  /** Sum of the store's offline approvals whose ledger entry is not yet answered by the wallet. */
  unsyncedTotal: number;
  /** Unix ms of the last successful risk-feed call; null when the feed was never refreshed. */
  feedRefreshedAt: number | null;
}

export interface OfflinePayment {
  amount: number;
  basket: readonly BasketLine[] | null;
  /** From the device certificate: what the wallet lets this device spend offline between syncs. */
  offlineLimit: number;
  /** From the device certificate, unix seconds. */
  enrolledAt: number;
}

/** Which bound an `offline_limit_exceeded` hit: CONTRACT §2 has one reason for all four, logs say which. */
export type OfflineLimitName = 'per_transaction' | 'per_device' | 'consecutive' | 'store';

export type OfflineDecision =
  | { approved: true }
  | { approved: false; reason: DeclineReason; limit?: OfflineLimitName };

export function decideOffline(
  limits: OfflineLimits,
  device: OfflineDeviceState,
  store: OfflineStoreState,
  payment: OfflinePayment,
  nowMs: number,
): OfflineDecision {
  if (!limits.enabled) return { approved: false, reason: 'online_required' };
  if (isFeedStale(limits, store.feedRefreshedAt, nowMs)) return { approved: false, reason: 'offline_stale' };
  if (hasRestrictedLine(limits.restrictedCategories, payment.basket)) {
    return { approved: false, reason: 'restricted_category_offline' };
  }
  if (nowMs - payment.enrolledAt * 1000 < limits.deviceMinAgeSec * 1000) {
    return { approved: false, reason: 'new_device_offline' };
  }
  const limit = exceededLimit(limits, device, store, payment);
  if (limit !== null) return { approved: false, reason: 'offline_limit_exceeded', limit };
  return { approved: true };
}

function exceededLimit(
  limits: OfflineLimits,
  device: OfflineDeviceState,
  store: OfflineStoreState,
  payment: OfflinePayment,
): OfflineLimitName | null {
  if (payment.amount > limits.perTransactionLimit) return 'per_transaction';
  if (device.unsyncedTotal + payment.amount > deviceCap(limits, payment.offlineLimit)) return 'per_device';
  if (device.consecutive >= limits.consecutiveMax) return 'consecutive';
  if (store.unsyncedTotal + payment.amount > limits.storeLimit) return 'store';
  return null;
}

/** The most a device may have unsynced: the wallet's certificate limit, capped by the store's own. */
export function deviceCap(limits: Pick<OfflineLimits, 'perDeviceLimit'>, offlineLimit: number): number {
  return Math.min(offlineLimit, limits.perDeviceLimit);
}

/** Stale when never refreshed, or refreshed longer ago than feedMaxAgeSec. */
export function isFeedStale(
  limits: Pick<OfflineLimits, 'feedMaxAgeSec'>,
  refreshedAt: number | null,
  nowMs: number,
): boolean {
  return refreshedAt === null || nowMs - refreshedAt > limits.feedMaxAgeSec * 1000;
}

/** Categories compare trimmed and case-insensitive, so that "Tobacco " is still tobacco. */
export function hasRestrictedLine(
  restricted: readonly string[],
  basket: readonly BasketLine[] | null,
): boolean {
  if (basket === null || basket.length === 0) return false;
  const blocked = new Set(restricted.map(normalizeCategory));
  return basket.some((line) => blocked.has(normalizeCategory(line.category)));
}

function normalizeCategory(category: string): string {
  return category.trim().toLowerCase();
}

/** The account's payments (approved or in progress) in the window before this one, and the lanes they used. */
export interface VelocityWindow {
  payments: number;
  lanes: readonly string[];
}

/** True when this payment would make the account pay more than maxPayments times or at more than maxLanes lanes. */
export function velocityExceeded(limits: VelocityLimits, prior: VelocityWindow, laneId: string): boolean {
  if (!limits.enabled) return false;
  if (prior.payments + 1 > limits.maxPayments) return true;
  return new Set([...prior.lanes, laneId]).size > limits.maxLanes;
}
