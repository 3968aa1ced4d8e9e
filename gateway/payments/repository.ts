// SQL for payments, device counters, deny-lists, refunds and the outbox. Statements are prepared once.
// Writes that belong to one decision are called inside the caller's db.transaction(); nothing here commits alone.
import type { Db } from '../db/open.js';
import type { PaymentRow, PaymentState } from './payment.js';

type Statement = ReturnType<Db['prepare']>;

export interface RefundRow {
  id: string;
  payment_id: string;
  register_id: string;
  amount: number;
  state: 'pending' | 'succeeded' | 'failed';
  reason: string | null;
  created_at: number;
  decided_at: number | null;
}

/** Through the index of open payments (a few), not the lane's whole history: this runs on every scan. */
const AWAITING_ON_LANE = `FROM payments INDEXED BY payments_open
  WHERE state IN ('awaiting_scan','authorizing') AND state = 'awaiting_scan' AND lane_id = ?
  ORDER BY created_at LIMIT 1`;

export class PaymentRepository {
  readonly db: Db;
  readonly #updates = new Map<string, Statement>();
  readonly #s;

  constructor(db: Db) {
    this.db = db;
    this.#s = {
      insert: db.prepare(
        `INSERT INTO payments (id, register_id, lane_id, state, amount, currency, order_ref, basket_json,
           code_hash, refunded_amount, created_at, scan_deadline_at, updated_at)
         VALUES (@id, @register_id, @lane_id, @state, @amount, @currency, @order_ref, @basket_json,
           @code_hash, 0, @created_at, @scan_deadline_at, @created_at)`,
      ),
      get: db.prepare<[string], PaymentRow>('SELECT * FROM payments WHERE id = ?'),
      awaitingOnLane: db.prepare<[string], PaymentRow>(`SELECT * ${AWAITING_ON_LANE}`),
      // The scan claim, on every scan: finding the lane's waiting payment and moving it is one statement.
      claimAwaiting: db.prepare<[string, number, string], PaymentRow>(
        `UPDATE payments SET state = 'authorizing', code_hash = ?, scan_deadline_at = NULL, updated_at = ?
         WHERE id = (SELECT id ${AWAITING_ON_LANE}) RETURNING *`,
      ),
      open: db.prepare<[], PaymentRow>(
        "SELECT * FROM payments WHERE state IN ('awaiting_scan','authorizing') ORDER BY created_at",
      ),
      countOpen: db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM payments WHERE state IN ('awaiting_scan','authorizing')",
      ),
      maxCounter: db.prepare<[string], { max_counter: number }>(
        'SELECT max_counter FROM device_counters WHERE device_id = ?',
      ),
      raiseCounter: db.prepare(
        `INSERT INTO device_counters (device_id, max_counter, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET max_counter = max(max_counter, excluded.max_counter),
           updated_at = excluded.updated_at`,
      ),
      frozen: db.prepare<[string], { one: number }>(
        'SELECT 1 AS one FROM frozen_accounts WHERE account_id = ?',
      ),
      revoked: db.prepare<[string], { one: number }>(
        'SELECT 1 AS one FROM revoked_devices WHERE device_id = ?',
      ),
      outbox: db.prepare(
        `INSERT INTO outbox (kind, ledger_seq, authorization_id, refund_id, amount, created_at)
         VALUES (@kind, @ledgerSeq, @authorizationId, @refundId, @amount, @createdAt)`,
      ),
      insertRefund: db.prepare(
        `INSERT INTO refunds (id, payment_id, register_id, amount, state, created_at)
         VALUES (@id, @payment_id, @register_id, @amount, 'pending', @created_at)`,
      ),
      getRefund: db.prepare<[string], RefundRow>('SELECT * FROM refunds WHERE id = ?'),
      finishRefund: db.prepare(
        "UPDATE refunds SET state = @state, reason = @reason, decided_at = @decided_at WHERE id = @id AND state = 'pending'",
      ),
      refundsHeld: db.prepare<[string], { total: number }>(
        "SELECT coalesce(sum(amount), 0) AS total FROM refunds WHERE payment_id = ? AND state IN ('pending','succeeded')",
      ),
    };
  }

  insert(
    row: Pick<
      PaymentRow,
      | 'id'
      | 'register_id'
      | 'lane_id'
      | 'state'
      | 'amount'
      | 'currency'
      | 'order_ref'
      | 'basket_json'
      | 'created_at'
      | 'scan_deadline_at'
    > &
      Partial<Pick<PaymentRow, 'code_hash'>>,
  ): void {
    this.#s.insert.run({ code_hash: null, ...row });
  }

  get(id: string): PaymentRow | undefined {
    return this.#s.get.get(id);
  }

  awaitingOnLane(laneId: string): PaymentRow | undefined {
    return this.#s.awaitingOnLane.get(laneId);
  }

  /** Moves the lane's waiting payment to authorizing for a scan's code: the row as it is now, or undefined. */
  claimAwaiting(laneId: string, codeHash: string, nowMs: number): PaymentRow | undefined {
    return this.#s.claimAwaiting.get(codeHash, nowMs, laneId);
  }

  openPayments(): PaymentRow[] {
    return this.#s.open.all();
  }

  countOpen(): number {
    return this.#s.countOpen.get()!.n;
  }

  /**
   * Compare-and-set: applies `patch` only while the payment is in one of `from`.
   * Returns false when another path moved it first, so a decision is never written twice.
   */
  update(id: string, from: readonly PaymentState[], patch: Partial<PaymentRow>): boolean {
    const columns = Object.keys(patch).sort();
    const key = `${columns.join(',')}|${from.length}`;
    let statement = this.#updates.get(key);
    if (statement === undefined) {
      const set = columns.map((c) => `${c} = @${c}`).join(', ');
      const states = from.map((_, i) => `@from${i}`).join(', ');
      statement = this.db.prepare(`UPDATE payments SET ${set} WHERE id = @id AND state IN (${states})`);
      this.#updates.set(key, statement);
    }
    const params: Record<string, unknown> = { ...patch, id };
    from.forEach((state, i) => {
      params[`from${i}`] = state;
    });
    return statement.run(params).changes === 1;
  }

  /**
   * `update` for a row the caller read in this transaction: the row as it is now, or null when another path moved
   * it first. The compare-and-set wrote exactly `patch` over `row`, so the row is not read again.
   */
  move(row: PaymentRow, from: readonly PaymentState[], patch: Partial<PaymentRow>): PaymentRow | null {
    return this.update(row.id, from, patch) ? { ...row, ...patch } : null;
  }

  maxCounter(deviceId: string): number | undefined {
    return this.#s.maxCounter.get(deviceId)?.max_counter;
  }

  raiseCounter(deviceId: string, counter: number, nowMs: number): void {
    this.#s.raiseCounter.run(deviceId, counter, nowMs);
  }

  isAccountFrozen(accountId: string): boolean {
    return this.#s.frozen.get(accountId) !== undefined;
  }

  isDeviceRevoked(deviceId: string): boolean {
    return this.#s.revoked.get(deviceId) !== undefined;
  }

  enqueueLedgerEntry(ledgerSeq: number, nowMs: number): void {
    this.#outbox({ kind: 'ledger_entry', ledgerSeq, createdAt: nowMs });
  }

  enqueueReversal(authorizationId: string, nowMs: number): void {
    this.#outbox({ kind: 'reversal', authorizationId, createdAt: nowMs });
  }

  enqueueRefund(refundId: string, authorizationId: string, amount: number, nowMs: number): void {
    this.#outbox({ kind: 'refund', refundId, authorizationId, amount, createdAt: nowMs });
  }

  #outbox(row: {
    kind: string;
    ledgerSeq?: number;
    authorizationId?: string;
    refundId?: string;
    amount?: number;
    createdAt: number;
  }): void {
    this.#s.outbox.run({ ledgerSeq: null, authorizationId: null, refundId: null, amount: null, ...row });
  }

  insertRefund(row: Pick<RefundRow, 'id' | 'payment_id' | 'register_id' | 'amount' | 'created_at'>): void {
    this.#s.insertRefund.run(row);
  }

  getRefund(id: string): RefundRow | undefined {
    return this.#s.getRefund.get(id);
  }

  /** Moves a pending refund to its outcome; false when it was already decided. */
  finishRefund(id: string, state: 'succeeded' | 'failed', reason: string | null, nowMs: number): boolean {
    return this.#s.finishRefund.run({ id, state, reason, decided_at: nowMs }).changes === 1;
  }

  /** Refunds pending or done for a payment: what is no longer available to refund. */
  refundsHeld(paymentId: string): number {
    return this.#s.refundsHeld.get(paymentId)!.total;
  }
}
