// What the dashboard reads from the gateway's database beyond /v1/status: the latest payments, payments and
// declines per hour (from the payments table, per lane through the payments_lane index), and the losses that
// sync/ found (view sync_losses). Read-only; statements are prepared once.
import type { Db } from '../db/open.js';
import { type Payment, type PaymentRow, toApiPayment } from '../payments/payment.js';

const HOUR_MS = 3_600_000;

export interface HourBucket {
  /** Unix ms of the hour's start. */
  startMs: number;
  approvedOnline: number;
  approvedOffline: number;
  declined: number;
}

export interface Activity {
  hours: HourBucket[];
  /** Declines in the whole window by reason, most frequent first. */
  declinesByReason: { reason: string; count: number }[];
}

export interface Loss {
  paymentId: string;
  laneId: string | null;
  amount: number;
  currency: string;
  mode: string;
  reason: string | null;
  accountId: string | null;
  occurredAt: string;
}

interface DecidedGroup {
  bucket: number;
  approved: 0 | 1;
  mode: string | null;
  reason: string | null;
  n: number;
}

export class DashboardQueries {
  readonly #recent;
  readonly #decided;
  readonly #losses;

  constructor(db: Db) {
    // Payments are inserted as they are created, so rowid order is creation order.
    this.#recent = db.prepare<[number], PaymentRow>('SELECT * FROM payments ORDER BY rowid DESC LIMIT ?');
    this.#decided = db.prepare<[{ start: number; lane: string }], DecidedGroup>(
      `SELECT CAST((created_at - @start) / ${HOUR_MS} AS INTEGER) AS bucket, approved, mode, reason, count(*) AS n
       FROM payments WHERE lane_id = @lane AND created_at >= @start AND approved IS NOT NULL
       GROUP BY bucket, approved, mode, reason`,
    );
    this.#losses = db.prepare<[number], Loss>(
      `SELECT s.payment_id AS paymentId, p.lane_id AS laneId, s.amount, s.currency, s.mode, s.reason,
         s.account_id AS accountId, s.occurred_at AS occurredAt
       FROM sync_losses s LEFT JOIN payments p ON p.id = s.payment_id ORDER BY s.seq DESC LIMIT ?`,
    );
  }

  recentPayments(limit: number): Payment[] {
    return this.#recent.all(limit).map(toApiPayment);
  }

  /** The last `hours` whole hours (the current one included, partly), by the hour the payment started. */
  activity(laneIds: readonly string[], hours: number, nowMs: number): Activity {
    const startMs = (Math.floor(nowMs / HOUR_MS) - hours + 1) * HOUR_MS;
    const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({
      startMs: startMs + i * HOUR_MS,
      approvedOnline: 0,
      approvedOffline: 0,
      declined: 0,
    }));
    const reasons = new Map<string, number>();
    for (const laneId of laneIds) {
      for (const group of this.#decided.all({ start: startMs, lane: laneId })) {
        const bucket = buckets[group.bucket];
        if (bucket === undefined) continue;
        if (group.approved === 1 && group.mode === 'offline') bucket.approvedOffline += group.n;
        else if (group.approved === 1) bucket.approvedOnline += group.n;
        else {
          bucket.declined += group.n;
          const reason = group.reason ?? 'unknown';
          reasons.set(reason, (reasons.get(reason) ?? 0) + group.n);
        }
      }
    }
    const declinesByReason = [...reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    return { hours: buckets, declinesByReason };
  }

  losses(limit: number): Loss[] {
    return this.#losses.all(limit);
  }
}
