// The payment service: creates payments, takes each lane's next scan, runs the checks of CONTRACT §1.1,
// authorizes online with a deadline and settles every outcome through Settlement; when the wallet's outcome stays
// unknown, a PC1 code is decided offline under §4 (gateway/offline/). It owns the timers, the in-flight work and
// the long-poll waiters; HTTP and scanners are thin shells around it.
import { hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { LogBudget, SCAN_LOG_LINES, SCAN_LOG_WINDOW_MS } from '../../drivers/log-budget.js';
import type { Config } from '../config.js';
import { type CommitGroup, commitGroup, StorageLost } from '../db/commit-group.js';
import type { Db } from '../db/open.js';
import { withDeadline } from '../deadline.js';
import type { DeclineReason } from '../decline-reasons.js';
import { GatewayError } from '../errors.js';
import { timeOrderedId } from '../ids.js';
import type { Ledger } from '../ledger/ledger.js';
import { OfflineAcceptance } from '../offline/acceptance.js';
import type { DeviceCertificateInfo } from '../offline/state.js';
import type { Pc1Code } from '../paycode/pc1.js';
import { checkPayCodeAsync } from '../paycode/verify.js';
import { WalletCallError, type WalletClient } from '../wallet-client/wallet-client.js';
import type { StoreMode } from '../wallet-health.js';
import type { IssuerKeyStore } from './issuer-keys.js';
import { authorizeOnline, type OnlineOutcome, type UnknownCause } from './online-authorizer.js';
import { type BasketLine, type Payment, type PaymentRow, toApiPayment } from './payment.js';
import { PaymentRepository } from './repository.js';
import { Settlement } from './settlement.js';

export interface CreatePaymentInput {
  registerId: string;
  laneId: string;
  amount: number;
  currency: string;
  orderRef: string;
  basket?: BasketLine[];
  payCode?: string;
}

/** What registers learn of a scan: never its contents. */
export interface ScanNotice {
  laneId: string;
  deviceId: string;
  symbology: string;
  receivedAt: string;
  outcome: 'taken' | 'dropped';
  paymentId?: string;
}

export interface LaneScan {
  text: string;
  deviceId: string;
  symbology: string;
  receivedAt: number;
}

export interface RefundView {
  id: string;
  paymentId: string;
  amount: number;
  state: 'pending' | 'succeeded' | 'failed';
  reason?: string;
}

export interface PaymentServiceEvents {
  payment: [payment: Payment];
  scan: [notice: ScanNotice];
  /** Work was queued for sync/ (reversal, refund, ledger entry). */
  outbox: [];
}

export type PaymentSettings = Pick<
  Config,
  'storeId' | 'currency' | 'wallet' | 'payments' | 'codes' | 'offline'
>;

export interface PaymentServiceOptions {
  db: Db;
  ledger: Ledger;
  wallet: WalletClient;
  keys: IssuerKeyStore;
  settings: PaymentSettings;
  logger: Logger;
  /** Whether the wallet answers lately; while offline, a PC1 code's online attempt is a short probe. */
  health?: { readonly mode: StoreMode };
  /** Unix ms. */
  now?: () => number;
}

/** What checks 1–7 made of a code: the parsed PC1 code, 'numeric' (online only), or why it is declined. */
type CheckedCode = Pc1Code | 'numeric' | DeclineReason;

/** How often open payments are looked over for decisions a failing disk lost (see #sweep). */
const SWEEP_INTERVAL_MS = 1_000;

/**
 * After the wallet's host refused a connection while the store is offline, payments that may be decided offline
 * skip the send for this long: nothing is listening, so a send can only be refused again. One send per window still
 * probes, and any contact with the wallet (a feed page, a key fetch) turns the store online and ends it at once.
 */
const REFUSED_HOLD_MS = 250;

export class PaymentService extends EventEmitter<PaymentServiceEvents> {
  readonly repo: PaymentRepository;
  readonly settlement: Settlement;
  readonly offline: OfflineAcceptance;
  readonly #options: PaymentServiceOptions;
  readonly #settings: PaymentSettings;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #changes = new EventEmitter();
  readonly #scanTimers = new Map<string, NodeJS.Timeout>();
  /** Per lane (lanes are bounded by the config): a flood of stray scans must not flood the log. */
  readonly #droppedScanLog = new Map<string, LogBudget>();
  readonly #inflight = new Set<Promise<unknown>>();
  /** Payments this process is deciding now: the sweep leaves them alone. */
  readonly #deciding = new Set<string>();
  readonly #abort = new AbortController();
  /** The connection's commit group (gateway/db/commit-group.ts): every write of a decision goes through it. */
  readonly #commits: CommitGroup;
  #accepting = true;
  /** When a send last found the wallet's host refusing connections (see REFUSED_HOLD_MS); null after any other outcome. */
  #refusedAt: number | null = null;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweepFailing = false;

  constructor(options: PaymentServiceOptions) {
    super();
    this.#options = options;
    this.#settings = options.settings;
    this.#log = options.logger.child({ module: 'payments' });
    this.#now = options.now ?? Date.now;
    this.#commits = commitGroup(options.db);
    this.repo = new PaymentRepository(options.db);
    this.settlement = new Settlement(this.repo, options.ledger, this.#now);
    this.offline = new OfflineAcceptance({
      db: options.db,
      repo: this.repo,
      settlement: this.settlement,
      config: options.settings.offline,
      logger: options.logger,
      now: this.#now,
    });
    this.#changes.setMaxListeners(0);
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * Starts a payment on a lane. Without a pay code it waits for the lane's next scan; with one, the code's checks
   * 1–7 (signatures on the thread pool) come first, then the payment is written already claimed by that code and
   * decided in the same turn: the row, the reservation and an offline decision share one commit.
   */
  async create(input: CreatePaymentInput, onCreated?: (paymentId: string) => void): Promise<Payment> {
    this.#assertAccepting();
    this.#assertAcceptable(input);
    const payCode = input.payCode;
    const checked = payCode === undefined ? undefined : await this.#checkCode(payCode);
    // Checked again: the gateway may have begun to stop while the signatures were verified.
    this.#assertAccepting();
    const id = timeOrderedId();
    const now = this.#now();
    this.#commits.write(() => {
      if (this.repo.countOpen() >= this.#settings.payments.openMax) {
        throw new GatewayError('overloaded', 'too many payments are open; try again shortly');
      }
      if (payCode === undefined && this.repo.awaitingOnLane(input.laneId) !== undefined) {
        throw new GatewayError('lane_busy', `lane ${input.laneId} already has a payment waiting for a scan`);
      }
      this.repo.insert({
        id,
        register_id: input.registerId,
        lane_id: input.laneId,
        state: payCode === undefined ? 'awaiting_scan' : 'authorizing',
        amount: input.amount,
        currency: input.currency,
        order_ref: input.orderRef,
        basket_json: input.basket === undefined ? null : JSON.stringify(input.basket),
        code_hash: payCode === undefined ? null : codeHashOf(payCode),
        created_at: now,
        scan_deadline_at: payCode === undefined ? now + this.#settings.payments.scanTimeoutMs : null,
      });
    });
    onCreated?.(id);
    if (payCode === undefined) {
      // A payment with its code gets one line, at its decision (milliseconds later), with the same fields.
      this.#log.info({ paymentId: id, laneId: input.laneId, amount: input.amount }, 'payment created');
      this.#armScanTimer(id, this.#settings.payments.scanTimeoutMs);
      return this.#publish(this.repo.get(id)!);
    }
    this.#publish(this.repo.get(id)!);
    await this.#track(this.#decide(id, payCode, checked!), id);
    const decided = this.repo.get(id);
    // Gone: the commit that held it failed (a full or failing disk) and took the payment with it.
    if (decided === undefined) throw this.#commits.lastFailure ?? new StorageLost();
    return toApiPayment(decided);
  }

  get(id: string): Payment | undefined {
    const row = this.repo.get(id);
    return row === undefined ? undefined : toApiPayment(row);
  }

  row(id: string): PaymentRow | undefined {
    return this.repo.get(id);
  }

  /**
   * Long poll: while the payment is still open (awaiting a scan or authorizing), resolves at its next change
   * or after waitMs; a decided payment is returned at once.
   */
  async waitForChange(id: string, waitMs: number, signal?: AbortSignal): Promise<Payment | undefined> {
    const row = this.repo.get(id);
    if (row === undefined) return undefined;
    if ((row.state !== 'awaiting_scan' && row.state !== 'authorizing') || waitMs <= 0)
      return toApiPayment(row);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#changes.off(id, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.#changes.on(id, done);
      signal?.addEventListener('abort', done, { once: true });
    });
    return this.get(id);
  }

  /** A scan from one of the lane's scanners: it pays the lane's waiting payment, or is reported and dropped. */
  onScan(laneId: string, scan: LaneScan): void {
    try {
      this.#takeScan(laneId, scan);
    } catch (error) {
      // A scanner's event must not throw (a real driver would take the process down). Nothing was decided: the
      // payment still waits, and the customer scans again.
      this.#log.error({ err: error, laneId }, 'scan could not be recorded (storage?): dropped');
    }
  }

  #takeScan(laneId: string, scan: LaneScan): void {
    const notice: ScanNotice = {
      laneId,
      deviceId: scan.deviceId,
      symbology: scan.symbology,
      receivedAt: new Date(scan.receivedAt).toISOString(),
      outcome: 'dropped',
    };
    const claimed = this.#accepting ? this.#claim(laneId, scan.text) : undefined;
    if (claimed === undefined) {
      if (this.#droppedScanBudget(laneId).allow(this.#log))
        this.#log.info({ laneId, deviceId: scan.deviceId }, 'scan with no payment waiting: dropped');
      this.emit('scan', notice);
      return;
    }
    this.emit('scan', { ...notice, outcome: 'taken', paymentId: claimed.id });
    void this.#begin(claimed, scan.text);
  }

  #droppedScanBudget(laneId: string): LogBudget {
    let budget = this.#droppedScanLog.get(laneId);
    if (budget === undefined) {
      budget = new LogBudget({ lines: SCAN_LOG_LINES, windowMs: SCAN_LOG_WINDOW_MS, now: this.#now });
      this.#droppedScanLog.set(laneId, budget);
    }
    return budget;
  }

  async cancel(id: string): Promise<Payment> {
    const row = this.repo.get(id);
    if (row === undefined) throw new GatewayError('not_found', 'no such payment');
    if (row.state === 'cancelled' || row.state === 'voided') return toApiPayment(row);
    if (row.state === 'awaiting_scan') {
      const cancelled = this.settlement.cancel(id);
      if (cancelled !== null) {
        this.#clearScanTimer(id);
        return this.#publish(cancelled);
      }
    } else if (row.state === 'approved') {
      const voided = this.settlement.void(id);
      if (voided !== null) {
        this.#log.info({ paymentId: id }, 'approved payment voided; reversal queued');
        this.emit('outbox');
        return this.#publish(voided);
      }
    }
    const now = this.repo.get(id)!;
    throw new GatewayError('not_allowed', `a payment in state ${now.state} cannot be cancelled`);
  }

  /** Online refunds (CONTRACT §2). 201 when the wallet confirmed, 202 when its answer is pending upstream. */
  async refund(input: {
    paymentId: string;
    registerId: string;
    amount: number;
    refundId: string;
  }): Promise<{ status: 201 | 202; refund: RefundView; payment: Payment }> {
    this.#assertAccepting();
    const row = this.repo.get(input.paymentId);
    if (row === undefined) throw new GatewayError('not_found', 'no such payment');
    const existing = this.repo.getRefund(input.refundId);
    if (existing === undefined) this.#reserveRefund(row, input);
    else if (existing.payment_id !== row.id || existing.amount !== input.amount) {
      throw new GatewayError('idempotency_conflict', 'this refund id was used for another refund');
    }
    const refund = this.repo.getRefund(input.refundId)!;
    if (refund.state === 'pending') await this.#sendRefund(row, input.refundId, input.amount);
    const settled = this.repo.getRefund(input.refundId)!;
    if (settled.state === 'failed') {
      throw new GatewayError(
        'refund_declined',
        `the wallet declined the refund (${settled.reason ?? 'no reason'})`,
      );
    }
    const view: RefundView = {
      id: settled.id,
      paymentId: row.id,
      amount: settled.amount,
      state: settled.state,
    };
    return { status: settled.state === 'pending' ? 202 : 201, refund: view, payment: this.get(row.id)! };
  }

  /** Called by sync/ when a refund queued upstream got its answer. */
  settleRefund(refundId: string, outcome: { ok: true } | { ok: false; reason: string }): void {
    const row = this.settlement.settleRefund(refundId, outcome);
    if (row !== null) {
      this.emit('outbox');
      this.#publish(row);
    }
  }

  /**
   * After a restart: payments left authorizing are asked of the wallet once and settled; ones never sent are
   * declined; scan timers are armed again. Runs before the gateway takes requests.
   */
  recover(): void {
    for (const row of this.repo.openPayments()) {
      if (row.state === 'awaiting_scan') {
        const left = (row.scan_deadline_at ?? 0) - this.#now();
        this.#armScanTimer(row.id, Math.max(0, left));
      } else if (row.authorization_id === null) {
        this.#publishOrNull(this.settlement.decline(row.id, 'online_required'));
      } else {
        this.#track(this.#recoverAuthorizing(row), row.id);
      }
    }
    this.#sweepTimer ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /**
   * Decisions a failing disk lost (a write that threw, a commit SQLite undid) leave a payment open in the file with
   * nothing in this process deciding it. Past its deadline — an authorizing one past the wallet's, a waiting one past
   * its scan timeout with no timer left — it is declined with a reversal queued, or expired: none stays open, and
   * its register, told an error, never sees it approved later. While the disk still refuses, the next sweep retries.
   */
  #sweep(): void {
    const now = this.#now();
    try {
      for (const row of this.repo.openPayments()) {
        if (this.#deciding.has(row.id) || this.#scanTimers.has(row.id)) continue;
        if (row.state === 'awaiting_scan' && (row.scan_deadline_at ?? 0) <= now) {
          this.#publishOrNull(this.settlement.decline(row.id, 'scan_timeout', { from: ['awaiting_scan'] }));
        }
        const deadline = row.authorize_deadline_at ?? row.updated_at + this.#settings.wallet.timeoutMs;
        if (row.state === 'authorizing' && deadline <= now) {
          const declined = this.settlement.decline(row.id, 'online_required', { reverse: true });
          if (declined === null) continue;
          this.#log.warn({ paymentId: row.id }, 'decision lost by a failing disk: declined, reversal queued');
          this.emit('outbox');
          this.#publish(declined);
        }
      }
      this.#sweepFailing = false;
    } catch (error) {
      if (!this.#sweepFailing)
        this.#log.error({ err: error }, 'open payments could not be settled (storage?)');
      this.#sweepFailing = true;
    }
  }

  /** Stops new payments and scans; payments still waiting for a scan are cancelled. */
  stopAccepting(): void {
    this.#accepting = false;
    clearInterval(this.#sweepTimer);
    for (const row of this.repo.openPayments()) {
      if (row.state === 'awaiting_scan') this.#publishOrNull(this.settlement.cancel(row.id));
    }
    for (const timer of this.#scanTimers.values()) clearTimeout(timer);
    this.#scanTimers.clear();
  }

  /**
   * Waits for in-flight decisions up to graceMs, then aborts what is left: those reach a final state
   * (declined with a reversal queued) before this returns.
   */
  async drain(graceMs: number): Promise<void> {
    const all = Promise.allSettled([...this.#inflight]);
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
    ]);
    if (timedOut) {
      this.#abort.abort();
      await Promise.allSettled([...this.#inflight]);
    }
  }

  // ——— the decision ———

  /**
   * Claims the lane's waiting payment for this code, if one waits: synchronously, so one scan pays one payment, and
   * in one statement (bench/scan-path.ts times it). In the commit group like every write of the decision: taken at
   * once in this process, on disk with the reservation before anything reaches the wallet.
   */
  #claim(laneId: string, text: string): PaymentRow | undefined {
    const codeHash = codeHashOf(text);
    const now = this.#now();
    return this.#commits.write(() => this.repo.claimAwaiting(laneId, codeHash, now));
  }

  /** Decides a payment its scan claimed. */
  #begin(claimed: PaymentRow, text: string): Promise<void> {
    this.#clearScanTimer(claimed.id);
    this.#publish(claimed);
    return this.#track(this.#decide(claimed.id, text), claimed.id);
  }

  /** `checked`: the outcome of checks 1–7 when the caller ran them already (a payment created with its code). */
  async #decide(id: string, text: string, checked?: CheckedCode): Promise<void> {
    try {
      const local = checked ?? (await this.#checkCode(text));
      if (typeof local === 'string' && local !== 'numeric') {
        this.#finishLocalDecline(id, local);
        return;
      }
      const certificate = local === 'numeric' ? null : certificateOf(local);
      const offlineAllowed = certificate !== null && this.offline.limits().enabled;
      const reserved = this.#reserve(id, local, offlineAllowed);
      if (typeof reserved === 'string') {
        this.#finishLocalDecline(id, reserved);
        return;
      }
      const outcome = await this.#askWallet(reserved, text, offlineAllowed);
      this.#settleOnline(id, outcome, offlineAllowed ? certificate : null);
    } catch (error) {
      this.#log.error({ err: error, paymentId: id }, 'decision failed; declining with a reversal');
      this.#publishOrNull(this.settlement.decline(id, 'online_required', { reverse: true }));
    }
  }

  /** Checks 1–7 (refreshing issuer keys once when the kid is unknown). A PC1 code or 'numeric' on success. */
  async #checkCode(text: string): Promise<CheckedCode> {
    let check = await checkPayCodeAsync(text, this.#codeOptions());
    if (check.outcome === 'unknown_issuer_key' && (await this.#options.keys.refresh())) {
      check = await checkPayCodeAsync(text, this.#codeOptions());
    }
    if (check.outcome === 'online_only') return 'numeric';
    if (check.outcome === 'valid') return check.code;
    return check.outcome;
  }

  #codeOptions() {
    return {
      keys: this.#options.keys.ring(),
      now: Math.floor(this.#now() / 1000),
      maxCodeAgeSec: this.#settings.codes.maxCodeAgeSec,
      maxClockSkewSec: this.#settings.codes.maxClockSkewSec,
    };
  }

  /**
   * Checks 8–9, the velocity rule and the reservation, in one transaction: the device counter is raised and the
   * authorization id written before anything is sent, so a retry reuses the id and a second lane sees the code as
   * replayed. While the wallet health says offline, a code that may be decided offline gets only a short probe.
   */
  #reserve(id: string, code: Pc1Code | 'numeric', offlineAllowed: boolean): PaymentRow | DeclineReason {
    return this.#commits.write((): PaymentRow | DeclineReason => {
      const now = this.#now();
      const { timeoutMs } = this.#settings.wallet;
      const probe = offlineAllowed && this.#options.health?.mode === 'offline';
      const budgetMs = probe ? Math.min(this.offline.limits().probeTimeoutMs, timeoutMs) : timeoutMs;
      const row = this.repo.get(id)!;
      const patch: Partial<PaymentRow> = {
        authorization_id: `a_${timeOrderedId()}`,
        authorize_deadline_at: now + budgetMs,
        code_kind: code === 'numeric' ? 'numeric' : 'pc1',
        updated_at: now,
      };
      if (code !== 'numeric') {
        const { accountId, deviceId } = code.certificate;
        if (code.counter <= (this.repo.maxCounter(deviceId) ?? 0)) return 'code_replayed';
        if (this.repo.isAccountFrozen(accountId)) return 'account_frozen';
        if (this.repo.isDeviceRevoked(deviceId)) return 'device_revoked';
        if (!this.offline.admitVelocity({ id, accountId, laneId: row.lane_id }, now))
          return 'velocity_exceeded';
        this.repo.raiseCounter(deviceId, code.counter, now);
        Object.assign(patch, { account_id: accountId, device_id: deviceId, counter: code.counter });
      }
      const moved = this.repo.move(row, ['authorizing'], patch);
      if (moved === null) throw new Error(`payment ${id} left authorizing`);
      return moved;
    });
  }

  async #askWallet(row: PaymentRow, text: string, offlineAllowed: boolean): Promise<OnlineOutcome> {
    const request = {
      id: row.authorization_id!,
      storeId: this.#settings.storeId,
      laneId: row.lane_id,
      payCode: text,
      amount: row.amount,
      currency: row.currency,
      ...(row.basket_json === null ? {} : { basket: JSON.parse(row.basket_json) as BasketLine[] }),
      createdAt: Math.floor(row.created_at / 1000),
    };
    // Nothing sent, so nothing to wait for: the offline decision joins the reservation's commit.
    if (offlineAllowed && this.#refusedRecently()) return { kind: 'unknown', cause: 'refused' };
    // The authorization id goes out only once it is on disk: a retry after a crash must reuse it.
    await this.#commits.durable();
    const outcome = await authorizeOnline(this.#options.wallet, request, {
      deadlineAt: row.authorize_deadline_at!,
      queryIntervalMs: this.#settings.wallet.queryIntervalMs,
      now: this.#now,
      signal: this.#abort.signal,
      stopOnRefused: offlineAllowed,
    });
    this.#refusedAt = outcome.kind === 'unknown' && outcome.cause === 'refused' ? this.#now() : null;
    return outcome;
  }

  #refusedRecently(): boolean {
    return (
      this.#refusedAt !== null &&
      this.#options.health?.mode === 'offline' &&
      this.#now() - this.#refusedAt < REFUSED_HOLD_MS
    );
  }

  /** `certificate` is set when the payment may be decided offline should the outcome stay unknown. */
  #settleOnline(id: string, outcome: OnlineOutcome, certificate: DeviceCertificateInfo | null = null): void {
    let row: PaymentRow | null;
    if (outcome.kind === 'approved') {
      row = this.settlement.approve(id, { mode: 'online', ...pickIds(outcome) });
    } else if (outcome.kind === 'declined') {
      row = this.settlement.decline(id, outcome.reason, { mode: 'online' });
    } else {
      row = this.#settleUnknown(id, outcome.cause, certificate);
      this.emit('outbox');
    }
    if (row !== null) {
      // An unknown outcome was logged by #settleUnknown, with these fields and why.
      if (outcome.kind !== 'unknown') this.#log.info(decidedFields(row), 'payment decided');
      if (row.state === 'approved') this.emit('outbox');
      this.#publish(row);
    }
  }

  /**
   * The wallet's outcome stayed unknown. Decided offline under §4 with the same authorization id, unless the
   * wallet said `pending` (it is asking the customer: an offline approval would overrule it), the gateway is
   * shutting down, or the code cannot be decided offline; then declined with a reversal queued.
   */
  #settleUnknown(
    id: string,
    cause: UnknownCause,
    certificate: DeviceCertificateInfo | null,
  ): PaymentRow | null {
    if (certificate !== null && cause !== 'pending' && !this.#abort.signal.aborted) {
      const decided = this.offline.decide(id, certificate);
      if (decided === null) return null;
      const { decision, row } = decided;
      this.#log.warn(
        { ...decidedFields(row), cause, approved: decision.approved, ...(decision.approved ? {} : decision) },
        decision.approved
          ? 'wallet outcome unknown: approved offline, the ledger entry settles it'
          : 'wallet outcome unknown: declined offline, reversal queued',
      );
      return row;
    }
    const row = this.settlement.decline(id, 'online_required', { mode: 'online', reverse: true });
    this.#log.warn(
      { ...(row === null ? { paymentId: id } : decidedFields(row)), cause },
      'wallet outcome unknown at the deadline; declined, reversal queued',
    );
    return row;
  }

  #finishLocalDecline(id: string, reason: DeclineReason): void {
    const row = this.settlement.decline(id, reason);
    if (row !== null) {
      this.#log.info(decidedFields(row), 'payment declined by the gateway checks');
      this.#publish(row);
    }
  }

  async #recoverAuthorizing(row: PaymentRow): Promise<void> {
    let outcome: OnlineOutcome = { kind: 'unknown', cause: 'unreachable' };
    try {
      const found = await withDeadline(this.#abort.signal, this.#settings.wallet.timeoutMs, (signal) =>
        this.#options.wallet.getAuthorization(row.authorization_id!, signal),
      );
      if (found?.status === 'approved') outcome = { kind: 'approved', ...pickIds(found) };
      else if (found?.status === 'declined') outcome = { kind: 'declined', reason: 'wallet_declined' };
    } catch (error) {
      this.#log.warn({ err: error, paymentId: row.id }, 'recovery query failed');
    }
    this.#settleOnline(row.id, outcome);
  }

  // ——— refunds ———

  #reserveRefund(row: PaymentRow, input: { refundId: string; registerId: string; amount: number }): void {
    this.#commits.write(() => {
      const current = this.repo.get(row.id)!;
      if (current.state !== 'approved' && current.state !== 'partially_refunded') {
        throw new GatewayError('not_allowed', `a payment in state ${current.state} cannot be refunded`);
      }
      if (this.repo.refundsHeld(row.id) + input.amount > current.amount) {
        throw new GatewayError('refund_exceeds_payment', 'refunds would exceed the amount paid');
      }
      this.repo.insertRefund({
        id: input.refundId,
        payment_id: row.id,
        register_id: input.registerId,
        amount: input.amount,
        created_at: this.#now(),
      });
    });
  }

  async #sendRefund(row: PaymentRow, refundId: string, amount: number): Promise<void> {
    const request = { id: refundId, authorizationId: row.authorization_id!, amount };
    try {
      await this.#commits.durable();
      await withDeadline(this.#abort.signal, this.#settings.wallet.timeoutMs, (signal) =>
        this.#options.wallet.refund(request, signal),
      );
      this.settleRefund(refundId, { ok: true });
    } catch (error) {
      if (error instanceof WalletCallError && error.definitive) {
        this.settleRefund(refundId, { ok: false, reason: error.code ?? `http_${error.status}` });
        return;
      }
      this.#log.warn({ err: error, paymentId: row.id }, 'refund outcome unknown; queued for sync');
      this.#commits.write(() =>
        this.repo.enqueueRefund(refundId, request.authorizationId, amount, this.#now()),
      );
      this.emit('outbox');
    }
  }

  // ——— plumbing ———

  #assertAccepting(): void {
    if (!this.#accepting) throw new GatewayError('shutting_down', 'the gateway is shutting down');
  }

  #assertAcceptable(input: CreatePaymentInput): void {
    if (input.currency !== this.#settings.currency) {
      throw new GatewayError('invalid_request', `currency: this store takes ${this.#settings.currency}`, {
        details: { field: 'currency' },
      });
    }
    if (input.amount > this.#settings.payments.amountMax) {
      throw new GatewayError('invalid_request', `amount: at most ${this.#settings.payments.amountMax}`, {
        details: { field: 'amount' },
      });
    }
  }

  #armScanTimer(id: string, ms: number): void {
    this.#clearScanTimer(id);
    const timer = setTimeout(() => {
      this.#scanTimers.delete(id);
      try {
        this.#publishOrNull(this.settlement.decline(id, 'scan_timeout', { from: ['awaiting_scan'] }));
      } catch (error) {
        // Not thrown out of a timer (that ends the process): the sweep expires it once the disk takes writes.
        this.#log.error({ err: error, paymentId: id }, 'scan timeout could not be recorded (storage?)');
      }
    }, ms);
    timer.unref();
    this.#scanTimers.set(id, timer);
  }

  #clearScanTimer(id: string): void {
    const timer = this.#scanTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#scanTimers.delete(id);
  }

  #track<T>(work: Promise<T>, paymentId?: string): Promise<T> {
    this.#inflight.add(work);
    if (paymentId !== undefined) this.#deciding.add(paymentId);
    void work
      .finally(() => {
        this.#inflight.delete(work);
        if (paymentId !== undefined) this.#deciding.delete(paymentId);
      })
      .catch(() => undefined);
    return work;
  }

  #publishOrNull(row: PaymentRow | null): void {
    if (row !== null) this.#publish(row);
  }

  #publish(row: PaymentRow): Payment {
    const payment = toApiPayment(row);
    this.#changes.emit(row.id);
    this.emit('payment', payment);
    return payment;
  }
}

function codeHashOf(text: string): string {
  return hash('sha256', text, 'hex');
}

function certificateOf(code: Pc1Code): DeviceCertificateInfo {
  const { deviceId, accountId, offlineLimit, enrolledAt } = code.certificate;
  return { deviceId, accountId, offlineLimit, enrolledAt };
}

function pickIds(from: { accountId?: string; deviceId?: string }): { accountId?: string; deviceId?: string } {
  const ids: { accountId?: string; deviceId?: string } = {};
  if (from.accountId !== undefined) ids.accountId = from.accountId;
  if (from.deviceId !== undefined) ids.deviceId = from.deviceId;
  return ids;
}

/** What the one log line of a payment's decision says of it. */
function decidedFields(row: PaymentRow) {
  return {
    paymentId: row.id,
    laneId: row.lane_id,
    amount: row.amount,
    state: row.state,
    mode: row.mode ?? undefined,
    reason: row.reason ?? undefined,
  };
}
