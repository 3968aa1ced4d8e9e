// Offline acceptance as the payment service uses it: the velocity rule inside the reservation's transaction, and
// the offline decision — limits in force, device and store state, the rules, then approve or decline — in one
// IMMEDIATE transaction, so two lanes can never both spend the same headroom. Also the `offline` part of /v1/status.
import type { Logger } from 'pino';
import { commitGroup } from '../db/commit-group.js';
import type { Db } from '../db/open.js';
import type { BasketLine, PaymentRow } from '../payments/payment.js';
import type { PaymentRepository } from '../payments/repository.js';
import type { Settlement } from '../payments/settlement.js';
import { readFeedRefreshedAt, readLimitOverrides } from './feed-source.js';
import { type EffectiveLimits, mergeLimits } from './limits.js';
import {
  decideOffline,
  deviceCap,
  isFeedStale,
  type OfflineDecision,
  type OfflineLimits,
  velocityExceeded,
} from './rules.js';
import { type DeviceCertificateInfo, OfflineState } from './state.js';

/** Devices listed in /v1/status, most exposed first. */
const STATUS_DEVICES_MAX = 50;

export interface OfflineAcceptanceOptions {
  db: Db;
  repo: PaymentRepository;
  settlement: Settlement;
  config: OfflineLimits;
  logger: Logger;
  /** Unix ms. */
  now: () => number;
}

export interface OfflineStatus {
  enabled: boolean;
  /** RFC 3339: since when the store is offline (wallet health); null while online. */
  since: string | null;
  storeExposure: number;
  storeHeadroom: number;
  limits: OfflineLimits;
  /** Limit names the risk feed changed from the config. */
  limitsFromFeed: string[];
  feed: { refreshedAt: string | null; stale: boolean };
  devices: {
    deviceId: string;
    accountId: string | null;
    unsyncedTotal: number;
    consecutive: number;
    /** min(certificate offlineLimit, perDeviceLimit) − unsyncedTotal, never below 0. */
    headroom: number;
  }[];
}

export class OfflineAcceptance {
  readonly #options: OfflineAcceptanceOptions;
  readonly #state: OfflineState;
  readonly #log: Logger;
  #cached: { stored: string | null; effective: EffectiveLimits } | null = null;

  constructor(options: OfflineAcceptanceOptions) {
    this.#options = options;
    this.#state = new OfflineState(options.db);
    this.#log = options.logger.child({ module: 'offline' });
  }

  /** The limits in force now: config with the risk feed's changes over it. */
  limits(): OfflineLimits {
    return this.#effective().limits;
  }

  /**
   * The velocity rule for a PC1 code about to be sent or decided (both modes). Runs inside the reservation's
   * transaction; when it passes, the payment is recorded in the window in the same transaction.
   */
  admitVelocity(payment: { id: string; accountId: string; laneId: string }, nowMs: number): boolean {
    const limits = this.limits().velocity;
    const window = this.#state.velocityWindow(payment.accountId, nowMs - limits.windowSec * 1000);
    if (velocityExceeded(limits, window, payment.laneId)) {
      this.#log.warn(
        { paymentId: payment.id, accountId: payment.accountId, laneId: payment.laneId, ...window },
        'velocity rule declined a payment',
      );
      return false;
    }
    this.#state.recordActivity({ paymentId: payment.id, ...payment, at: nowMs });
    return true;
  }

  /**
   * Decides an authorizing payment offline and settles it in the same transaction: approved (mode offline, its
   * ledger entry carries the authorization id, so the wallet settles it once) or declined with a reversal queued,
   * because the id may have reached the wallet. Null when another path settled the payment first.
   */
  decide(
    paymentId: string,
    certificate: DeviceCertificateInfo,
  ): { row: PaymentRow; decision: OfflineDecision } | null {
    const { db, repo, settlement } = this.#options;
    return commitGroup(db).write(() => {
      const row = repo.get(paymentId);
      if (row === undefined || row.state !== 'authorizing') return null;
      const now = this.#options.now();
      const decision = decideOffline(
        this.limits(),
        this.#state.device(certificate.deviceId),
        { unsyncedTotal: this.#state.storeTotal(), feedRefreshedAt: readFeedRefreshedAt(db) },
        {
          amount: row.amount,
          basket: row.basket_json === null ? null : (JSON.parse(row.basket_json) as BasketLine[]),
          offlineLimit: certificate.offlineLimit,
          enrolledAt: certificate.enrolledAt,
        },
        now,
      );
      this.#state.rememberDevice(certificate, now);
      const settled = decision.approved
        ? settlement.approve(row, { mode: 'offline' })
        : settlement.decline(row, decision.reason, { mode: 'offline', reverse: true });
      return settled === null ? null : { row: settled, decision };
    });
  }

  status(offlineSince: string | null): OfflineStatus {
    const { db, now } = this.#options;
    const { limits, fromFeed } = this.#effective();
    const storeExposure = this.#state.storeTotal();
    const refreshedAt = readFeedRefreshedAt(db);
    return {
      enabled: limits.enabled,
      since: offlineSince,
      storeExposure,
      storeHeadroom: Math.max(0, limits.storeLimit - storeExposure),
      limits,
      limitsFromFeed: fromFeed,
      feed: {
        refreshedAt: refreshedAt === null ? null : new Date(refreshedAt).toISOString(),
        stale: isFeedStale(limits, refreshedAt, now()),
      },
      devices: this.#state.exposedDevices(STATUS_DEVICES_MAX).map((device) => ({
        deviceId: device.deviceId,
        accountId: device.accountId,
        unsyncedTotal: device.unsyncedTotal,
        consecutive: device.consecutive,
        headroom: Math.max(
          0,
          deviceCap(limits, device.offlineLimit ?? limits.perDeviceLimit) - device.unsyncedTotal,
        ),
      })),
    };
  }

  #effective(): EffectiveLimits {
    const stored = readLimitOverrides(this.#options.db);
    if (this.#cached?.stored === stored) return this.#cached.effective;
    const effective = mergeLimits(this.#options.config, stored);
    if (effective.ignored.length > 0) {
      this.#log.warn(
        { ignored: effective.ignored },
        'risk feed limits ignored: not valid offline.* settings',
      );
    }
    this.#cached = { stored, effective };
    return effective;
  }
}
