// Prometheus metrics of sync/ for /metrics: the outbox queue (depth, oldest age, last success), the feed's age,
// the chain-broken flag and the store's losses as gauges read at scrape time, plus counters of what was sent.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CallsSummary } from './call-sender.js';
import type { SyncStatus } from './status.js';

/** A scrape reads the status once for all gauges; a second within this window reuses it. */
const STATUS_REUSE_MS = 1_000;

export class SyncMetrics {
  readonly #registry: Registry;
  readonly #names: string[] = [];
  readonly #entries: Counter<'result'>;
  readonly #failures: Counter;
  readonly #calls: Counter<'result'>;
  #cached: { at: number; status: SyncStatus } | null = null;

  constructor(registry: Registry, readStatus: () => SyncStatus) {
    this.#registry = registry;
    const status = (): SyncStatus => {
      const now = Date.now();
      if (this.#cached === null || now - this.#cached.at > STATUS_REUSE_MS)
        this.#cached = { at: now, status: readStatus() };
      return this.#cached.status;
    };
    this.#gauge(
      'tillgate_sync_outbox_depth',
      'Outbox rows waiting for the wallet, by kind.',
      ['kind'],
      (g) => {
        const s = status();
        g.set({ kind: 'ledger_entry' }, s.pending);
        g.set({ kind: 'reversal' }, s.pendingReversals);
        g.set({ kind: 'refund' }, s.pendingRefunds);
      },
    );
    this.#gauge(
      'tillgate_sync_oldest_pending_age_seconds',
      'Age of the oldest pending outbox row (0 when none).',
      [],
      (g) => g.set(status().oldestPendingAgeSec ?? 0),
    );
    this.#gauge(
      'tillgate_sync_last_success_timestamp_seconds',
      'When the wallet last answered the uploader (0: never).',
      [],
      (g) => {
        const at = status().lastSuccessAt;
        g.set(at === null ? 0 : Date.parse(at) / 1000);
      },
    );
    this.#gauge(
      'tillgate_sync_feed_age_seconds',
      'Seconds since the risk feed was last refreshed (-1: never).',
      [],
      (g) => g.set(status().feed.ageSec ?? -1),
    );
    this.#gauge(
      'tillgate_sync_chain_broken',
      '1 while the wallet refuses this store ledger chain.',
      [],
      (g) => g.set(status().chainBroken ? 1 : 0),
    );
    this.#gauge(
      'tillgate_sync_loss_amount',
      'Approvals the wallet rejected, in minor units (store losses).',
      [],
      (g) => g.set(status().lossAmount),
    );
    this.#entries = this.#counter(
      'tillgate_sync_uploaded_entries_total',
      'Ledger entries answered by the wallet.',
      ['result'],
    );
    this.#failures = this.#counter(
      'tillgate_sync_upload_failures_total',
      'Upload passes that ended in a failure.',
      [],
    );
    this.#calls = this.#counter('tillgate_sync_calls_total', 'Reversal and refund calls, by outcome.', [
      'result',
    ]);
  }

  countBatch(settled: number, rejected: number): void {
    this.#entries.inc({ result: 'settled' }, settled);
    this.#entries.inc({ result: 'rejected' }, rejected);
  }

  countFailure(): void {
    this.#failures.inc();
  }

  countCalls(calls: CallsSummary): void {
    for (const [result, n] of Object.entries(calls)) if (n > 0) this.#calls.inc({ result }, n);
  }

  /** Removes every metric this instance registered (their collectors read a database that is closing). */
  unregister(): void {
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
  }

  #gauge(name: string, help: string, labelNames: string[], collect: (g: Gauge<string>) => void): void {
    this.#names.push(name);
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.#registry],
      collect() {
        collect(this);
      },
    });
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    this.#names.push(name);
    return new Counter({ name, help, labelNames, registers: [this.#registry] });
  }
}
