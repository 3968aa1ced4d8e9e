// sync/ as the gateway starts it: a background uploader loop (ledger batches, then reversals and refunds), paced
// by a timer, backing off with jitter after failures; the risk-feed follower; and metrics. Nothing here runs in a
// register request's path: notify() only wakes the loop, uploadNow() is for operators and tests.
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Db } from '../gateway/db/open.js';
import type { WalletClient } from '../gateway/wallet-client/wallet-client.js';
import { Alarm, backoffDelayMs } from './backoff.js';
import type { RefundSettled } from './call-sender.js';
import type { SyncConfig } from './config.js';
import { SyncMetrics } from './metrics.js';
import { type RiskEvent, RiskFeedFollower } from './risk-feed.js';
import { type SyncStatus, syncStatus } from './status.js';
import { SyncWorker, type UploadSummary } from './worker.js';

export type { RefundOutcome, RefundSettled } from './call-sender.js';
export type { SyncConfig } from './config.js';
export { type FeedLimits, feedLimits, feedState, type RiskEvent } from './risk-feed.js';
export { type SyncStatus, syncStatus } from './status.js';
export type { ChainBrokenInfo } from './uploader.js';
export type { UploadSummary } from './worker.js';

export interface StartSyncOptions {
  db: Db;
  wallet: WalletClient;
  storeId: string;
  config: SyncConfig;
  logger: Logger;
  /** Writes a confirmed (or refused) refund's ledger entry; must be idempotent — it may be called again. */
  onRefundSettled: RefundSettled;
  /** After a risk-feed page with events has committed (e.g. to reload the issuer-key ring). */
  onFeedApplied?: (events: RiskEvent[]) => void;
  /** Unix ms. */
  now?: () => number;
  random?: () => number;
  /** Where the metrics go; a private registry when absent. */
  registry?: Registry;
}

export interface SyncHandle {
  /** Runs a pass now (after any running one), ignoring backoff, retrying a refused chain once. */
  uploadNow(): Promise<UploadSummary>;
  /** Wakes the idle loop early (new outbox rows); respects backoff after failures. Cheap, never waits. */
  notify(): void;
  status(): SyncStatus;
  readonly registry: Registry;
  stop(): Promise<void>;
}

export function startSync(options: StartSyncOptions): SyncHandle {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const logger = options.logger.child({ module: 'sync' });
  const deps = { ...options, logger, now, random };
  const worker = new SyncWorker({ ...deps, holdLease: true });
  const follower = new RiskFeedFollower({ ...deps, onApplied: options.onFeedApplied });
  const registry = options.registry ?? new Registry();
  const status = (): SyncStatus => syncStatus(options.db, now());
  const metrics = new SyncMetrics(registry, status);
  const loop = new UploadLoop(worker, metrics, options.config, logger, random);
  if (options.config.enabled) {
    loop.start();
    follower.start();
  }
  return {
    uploadNow: () => loop.uploadNow(),
    notify: () => loop.notify(),
    status,
    registry,
    async stop() {
      await Promise.all([loop.stop(), follower.stop()]);
      metrics.unregister();
    },
  };
}

/**
 * How long the uploader gathers after a notify() before it wakes: the entries of the payments decided meanwhile go
 * in one batch, so that a busy store sends the wallet a batch per gather window, not one per payment (each is a
 * durable transaction at the wallet, beside the authorizations of the same store). Short against the idle interval.
 */
const NOTIFY_GATHER_MS = 100;

/** The uploader's pace: one pass at a time; idle interval when all is sent; capped backoff with jitter after a failure. */
class UploadLoop {
  readonly #worker: SyncWorker;
  readonly #metrics: SyncMetrics;
  readonly #config: SyncConfig;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #stopping = new AbortController();
  readonly #alarm = new Alarm();
  #tail: Promise<unknown> = Promise.resolve();
  #queued: Promise<UploadSummary> | null = null;
  #running: Promise<void> | null = null;
  #failures = 0;
  #gathering: NodeJS.Timeout | null = null;

  constructor(
    worker: SyncWorker,
    metrics: SyncMetrics,
    config: SyncConfig,
    logger: Logger,
    random: () => number,
  ) {
    this.#worker = worker;
    this.#metrics = metrics;
    this.#config = config;
    this.#logger = logger;
    this.#random = random;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  notify(): void {
    if (this.#failures !== 0 || this.#gathering !== null) return;
    this.#gathering = setTimeout(() => {
      this.#gathering = null;
      this.#alarm.wake();
    }, NOTIFY_GATHER_MS);
    this.#gathering.unref();
  }

  async stop(): Promise<void> {
    if (this.#gathering !== null) clearTimeout(this.#gathering);
    this.#stopping.abort();
    await this.#running;
    await this.#tail;
    this.#worker.releaseLease();
  }

  /** Passes never overlap in one process: each waits for the one before. */
  runExclusive(options: { retryBrokenChain: boolean }): Promise<UploadSummary> {
    const run = this.#tail.then(() => this.#pass(options));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * An operator's pass, after the running one. Calls while one is still waiting to start share it, so that
   * no number of calls queues more than one pass.
   */
  uploadNow(): Promise<UploadSummary> {
    this.#queued ??= this.runExclusive({ retryBrokenChain: true }).finally(() => {
      this.#queued = null;
    });
    return this.#queued;
  }

  async #pass(options: { retryBrokenChain: boolean }): Promise<UploadSummary> {
    const summary = await this.#worker.pass(this.#stopping.signal, {
      ...options,
      onBatch: (step) => this.#metrics.countBatch(step.settled, step.rejected),
    });
    this.#metrics.countCalls(summary.calls);
    if (!summary.ok && !summary.leaseBusy) this.#metrics.countFailure();
    return summary;
  }

  async #loop(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      let delayMs = this.#config.idleIntervalMs;
      try {
        const summary = await this.runExclusive({ retryBrokenChain: false });
        delayMs = this.#nextDelay(summary);
      } catch (error) {
        this.#failures += 1;
        delayMs = this.#backoff();
        this.#logger.error({ err: error, retryInMs: delayMs }, 'sync pass crashed');
      }
      await this.#alarm.sleep(delayMs, signal);
    }
  }

  #nextDelay(summary: UploadSummary): number {
    if (summary.ok || summary.leaseBusy) {
      this.#failures = 0;
      return this.#config.idleIntervalMs;
    }
    this.#failures += 1;
    return this.#backoff();
  }

  #backoff(): number {
    const policy = {
      initialDelayMs: this.#config.retryInitialDelayMs,
      maxDelayMs: this.#config.retryMaxDelayMs,
    };
    return backoffDelayMs(policy, this.#failures, this.#random);
  }
}
