// One sync pass under the uploader lease: the ledger backlog in batches until it is empty (or a batch fails, the
// chain is refused, the pass is stopped or the lease is lost), then the reversals and refunds that are due.
// Shared by the gateway's background loop (sync/index.ts) and `tillgate sync`.
import type { Logger } from 'pino';
import type { Db } from '../gateway/db/open.js';
import type { WalletClient } from '../gateway/wallet-client/wallet-client.js';
import { CallSender, type CallsSummary, type RefundSettled } from './call-sender.js';
import type { SyncConfig } from './config.js';
import { Lease, type LeaseHolder } from './lease.js';
import { type BatchStep, type ChainBrokenInfo, LedgerUploader } from './uploader.js';

export const UPLOADER_LEASE = 'uploader';

export interface UploadSummary {
  /** True when nothing failed: every batch sent was answered, and the chain was not refused. */
  ok: boolean;
  batches: number;
  entries: number;
  settled: number;
  rejected: number;
  /** Amount of the approvals rejected in this pass. */
  lossAmount: number;
  calls: CallsSummary;
  /** Ledger entries still waiting after the pass. */
  pending: number;
  durationMs: number;
  error?: string;
  chainBroken?: ChainBrokenInfo;
  /** Set when another process held the lease, so this pass did nothing. */
  leaseBusy?: LeaseHolder;
}

export interface PassOptions {
  /** Send ledger batches even though this process saw the chain refused (an operator's "upload now"). */
  retryBrokenChain?: boolean;
  onBatch?: (step: Extract<BatchStep, { kind: 'uploaded' }>) => void;
}

export interface WorkerDeps {
  db: Db;
  wallet: WalletClient;
  storeId: string;
  config: SyncConfig;
  logger: Logger;
  now: () => number;
  random: () => number;
  onRefundSettled?: RefundSettled | undefined;
  /**
   * Keep the lease from one pass to the next (the gateway's loop, which passes every `idleIntervalMs`), renewed only
   * once half its slack over a call has gone, and given back by `releaseLease()`; without it (`tillgate sync`), each
   * pass takes the lease and gives it back. Each take, renewal and release is a commit that waits for the disk.
   */
  holdLease?: boolean;
}

export class SyncWorker {
  readonly lease: Lease;
  readonly #uploader: LedgerUploader;
  readonly #calls: CallSender;
  readonly #countPending;
  readonly #holdLease: boolean;
  /** A lease that still runs this long outlives the next call's deadline: it is not renewed before that call. */
  readonly #heldForCallMs: number;
  #chainBroken: ChainBrokenInfo | null = null;

  constructor(deps: WorkerDeps) {
    const { db, config } = deps;
    this.lease = new Lease(db, UPLOADER_LEASE, config.leaseTtlMs, deps.now);
    this.#holdLease = deps.holdLease ?? false;
    this.#heldForCallMs = (config.leaseTtlMs + config.callTimeoutMs) / 2;
    this.#uploader = new LedgerUploader(deps);
    this.#calls = new CallSender({
      ...deps,
      backoff: { initialDelayMs: config.retryInitialDelayMs, maxDelayMs: config.retryMaxDelayMs },
      callTimeoutMs: config.callTimeoutMs,
      callsPerPassMax: config.callsPerPassMax,
    });
    this.#countPending = db.prepare<[], { n: number }>(
      "SELECT count(*) AS n FROM outbox WHERE kind = 'ledger_entry' AND status = 'pending'",
    );
  }

  /** The chain break this process saw, until a batch is accepted again. */
  get chainBroken(): ChainBrokenInfo | null {
    return this.#chainBroken;
  }

  pendingEntries(): number {
    return this.#countPending.get()!.n;
  }

  async pass(signal: AbortSignal, options: PassOptions = {}): Promise<UploadSummary> {
    const startedAt = performance.now();
    const summary = emptySummary();
    if (!this.lease.acquire(this.#holdLease ? this.#heldForCallMs : undefined)) {
      const holder = this.lease.current();
      return this.#finish(summary, startedAt, holder === null ? {} : { ok: false, leaseBusy: holder });
    }
    try {
      if (this.#chainBroken === null || options.retryBrokenChain) await this.#drain(signal, summary, options);
      if (!signal.aborted) await this.#sendCalls(signal, summary);
    } finally {
      if (!this.#holdLease) this.lease.release();
    }
    return this.#finish(summary, startedAt, {});
  }

  /** Gives the lease back (a worker that holds it between passes, when it stops), so another process need not wait. */
  releaseLease(): void {
    this.lease.release();
  }

  async #drain(signal: AbortSignal, summary: UploadSummary, options: PassOptions): Promise<void> {
    // Renewed once half of the lease's slack over one call has gone, not before every batch: at each send the
    // lease still outlives the call's deadline.
    let leaseLost = false;
    const end = await this.#uploader.drain(signal, {
      mayContinue: () => {
        leaseLost = !this.lease.acquire(this.#heldForCallMs);
        return !leaseLost;
      },
      onBatch: (step) => {
        this.#chainBroken = null;
        summary.batches += 1;
        summary.entries += step.entries;
        summary.settled += step.settled;
        summary.rejected += step.rejected;
        summary.lossAmount += step.lossAmount;
        options.onBatch?.(step);
      },
    });
    if (leaseLost) return fail(summary, 'the uploader lease was lost to another process');
    if (end.kind === 'failed') return fail(summary, end.error);
    if (end.kind === 'chain_broken') {
      this.#chainBroken = end.chainBroken;
      summary.chainBroken = end.chainBroken;
      return fail(summary, `chain_broken at seq ${end.chainBroken.seq}: ${end.chainBroken.problem}`);
    }
  }

  async #sendCalls(signal: AbortSignal, summary: UploadSummary): Promise<void> {
    // Refunds wait for their authorization's upload, unless uploads are stopped by a broken chain.
    summary.calls = await this.#calls.sendDue(signal, this.#chainBroken === null, () =>
      this.lease.acquire(this.#heldForCallMs),
    );
    if (summary.calls.failed > 0)
      fail(summary, `${summary.calls.failed} reversal/refund call(s) failed; retrying later`);
  }

  #finish(summary: UploadSummary, startedAt: number, patch: Partial<UploadSummary>): UploadSummary {
    return {
      ...summary,
      ...patch,
      pending: this.pendingEntries(),
      durationMs: Math.round(performance.now() - startedAt),
    };
  }
}

export function emptySummary(): UploadSummary {
  return {
    ok: true,
    batches: 0,
    entries: 0,
    settled: 0,
    rejected: 0,
    lossAmount: 0,
    calls: { done: 0, rejected: 0, failed: 0, deferred: 0 },
    pending: 0,
    durationMs: 0,
  };
}

function fail(summary: UploadSummary, error: string): void {
  summary.ok = false;
  summary.error ??= error;
}
