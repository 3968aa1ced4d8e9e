// Decide, then settle in one transaction (jPOS prepare/commit): each method moves a payment with a
// compare-and-set on its state and writes its ledger entry and outbox rows in the same SQLite transaction.
// Settling the same payment twice changes nothing: the second compare-and-set fails and nothing is written.
import { commitGroup } from '../db/commit-group.js';
import type { DeclineReason } from '../decline-reasons.js';
import { timeOrderedId } from '../ids.js';
import type { EntryType } from '../ledger/chain.js';
import type { Ledger } from '../ledger/ledger.js';
import type { PaymentMode, PaymentRow } from './payment.js';
import type { PaymentRepository } from './repository.js';

export interface Approval {
  mode: PaymentMode;
  accountId?: string;
  deviceId?: string;
}

export class Settlement {
  readonly #repo: PaymentRepository;
  readonly #ledger: Ledger;
  readonly #now: () => number;

  constructor(repo: PaymentRepository, ledger: Ledger, now: () => number) {
    this.#repo = repo;
    this.#ledger = ledger;
    this.#now = now;
  }

  /**
   * authorizing → approved, with its authorization entry upstream-bound. `payment`: its id, or its row as the
   * caller read it inside the transaction it runs this in (not read again).
   */
  approve(payment: string | PaymentRow, approval: Approval): PaymentRow | null {
    return commitGroup(this.#repo.db).write(() => {
      const row = this.#current(payment);
      if (row === undefined || row.authorization_id === null) return null;
      const now = this.#now();
      const accountId = approval.accountId ?? row.account_id;
      const deviceId = approval.deviceId ?? row.device_id;
      const moved = this.#repo.move(row, ['authorizing'], {
        state: 'approved',
        approved: 1,
        reason: null,
        mode: approval.mode,
        account_id: accountId,
        device_id: deviceId,
        decided_at: now,
        updated_at: now,
      });
      if (moved === null) return null;
      this.#append(row, 'authorization', approval.mode, row.amount, now, { accountId, deviceId });
      return moved;
    });
  }

  /**
   * authorizing (or awaiting_scan) → declined (`payment` as for approve). With `reverse`, the authorization id may
   * have reached the wallet with an outcome nobody knows: a reversal entry and a prompt reversal call make sure it
   * never stands.
   */
  decline(
    payment: string | PaymentRow,
    reason: DeclineReason,
    options: { mode?: PaymentMode; reverse?: boolean; from?: PaymentRow['state'][] } = {},
  ): PaymentRow | null {
    return commitGroup(this.#repo.db).write(() => {
      const row = this.#current(payment);
      if (row === undefined) return null;
      const now = this.#now();
      const moved = this.#repo.move(row, options.from ?? ['authorizing'], {
        state: reason === 'scan_timeout' ? 'expired' : 'declined',
        approved: 0,
        reason,
        mode: options.mode ?? null,
        decided_at: now,
        updated_at: now,
      });
      if (moved === null) return null;
      if (options.reverse && row.authorization_id !== null) {
        this.#append(row, 'reversal', 'online', row.amount, now, {});
        this.#repo.enqueueReversal(row.authorization_id, now);
      }
      return moved;
    });
  }

  /** awaiting_scan → cancelled: nothing was sent, nothing to record upstream. */
  cancel(id: string): PaymentRow | null {
    return commitGroup(this.#repo.db).write(() => {
      const now = this.#now();
      const moved = this.#repo.update(id, ['awaiting_scan'], { state: 'cancelled', updated_at: now });
      return moved ? this.#repo.get(id)! : null;
    });
  }

  /** approved → voided: a void entry and a prompt reversal of the authorization. */
  void(id: string): PaymentRow | null {
    return commitGroup(this.#repo.db).write(() => {
      const row = this.#repo.get(id);
      if (row === undefined || row.authorization_id === null) return null;
      const now = this.#now();
      const moved = this.#repo.move(row, ['approved'], { state: 'voided', updated_at: now });
      if (moved === null) return null;
      this.#append(row, 'void', row.mode ?? 'online', row.amount, now, {});
      this.#repo.enqueueReversal(row.authorization_id, now);
      return moved;
    });
  }

  /**
   * A pending refund's outcome. On success the refund entry carries the refund id as its entryId, so the
   * wallet applies the online refund and the uploaded entry once. Idempotent: a decided refund is left as is.
   */
  settleRefund(refundId: string, outcome: { ok: true } | { ok: false; reason: string }): PaymentRow | null {
    return commitGroup(this.#repo.db).write(() => {
      const refund = this.#repo.getRefund(refundId);
      if (refund === undefined) return null;
      const now = this.#now();
      const state = outcome.ok ? 'succeeded' : 'failed';
      if (!this.#repo.finishRefund(refundId, state, outcome.ok ? null : outcome.reason, now)) return null;
      const row = this.#repo.get(refund.payment_id)!;
      if (!outcome.ok) return row;
      const refunded = row.refunded_amount + refund.amount;
      this.#repo.update(row.id, ['approved', 'partially_refunded'], {
        state: refunded >= row.amount ? 'refunded' : 'partially_refunded',
        refunded_amount: refunded,
        updated_at: now,
      });
      this.#append(row, 'refund', row.mode ?? 'online', refund.amount, now, { entryId: refundId });
      return this.#repo.get(row.id)!;
    });
  }

  #current(payment: string | PaymentRow): PaymentRow | undefined {
    return typeof payment === 'string' ? this.#repo.get(payment) : payment;
  }

  #append(
    row: PaymentRow,
    type: EntryType,
    mode: PaymentMode,
    amount: number,
    nowMs: number,
    extra: { accountId?: string | null; deviceId?: string | null; entryId?: string },
  ): void {
    const accountId = extra.accountId ?? row.account_id;
    const deviceId = extra.deviceId ?? row.device_id;
    const entry = this.#ledger.append({
      entryId: extra.entryId ?? timeOrderedId(),
      type,
      mode,
      paymentId: row.id,
      authorizationId: row.authorization_id!,
      amount,
      currency: row.currency,
      ...(accountId === null ? {} : { accountId }),
      ...(deviceId === null ? {} : { deviceId }),
      ...(row.counter === null ? {} : { counter: row.counter }),
      laneId: row.lane_id,
      registerId: row.register_id,
      occurredAt: new Date(nowMs).toISOString(),
    });
    this.#repo.enqueueLedgerEntry(entry.seq, nowMs);
  }
}
