// The ledger uploader (CONTRACT §3.2): takes `ledger_entry` outbox rows in seq order, one bounded batch at a time,
// persists the batch (id and seq range) before the first send so that a retry after any crash resends the same
// batch id with the same entries, and marks every row settled or rejected from the wallet's answer in one transaction.
// drain() keeps the wallet busy through a backlog: while one full batch is at the wallet, the rows of the batch before
// it are marked and the batch after it is read and saved (still one batch in flight, in order); a batch short of the
// bound ends the drain. A 409 chain_broken stops uploading and is recorded for status, metrics and a loud log line.
import type { Logger } from 'pino';
import * as z from 'zod';
import { commitGroup } from '../gateway/db/commit-group.js';
import type { Db } from '../gateway/db/open.js';
import { deadline } from '../gateway/deadline.js';
import type { LedgerEntry } from '../gateway/ledger/chain.js';
import { Ledger } from '../gateway/ledger/ledger.js';
import {
  type BatchResult,
  type LedgerBatch,
  WalletCallError,
  type WalletClient,
} from '../gateway/wallet-client/wallet-client.js';
import type { SyncConfig } from './config.js';
import { deleteMeta, META_KEYS, setMeta } from './meta.js';

export interface ChainBrokenInfo {
  seq: number;
  problem: string;
  /** RFC 3339. */
  detectedAt: string;
}

export type BatchStep =
  | { kind: 'idle' }
  | {
      kind: 'uploaded';
      batchId: string;
      entries: number;
      lastSeq: number;
      settled: number;
      rejected: number;
      lossAmount: number;
    }
  | { kind: 'failed'; error: string }
  | { kind: 'chain_broken'; chainBroken: ChainBrokenInfo };

export interface UploaderDeps {
  db: Db;
  wallet: WalletClient;
  storeId: string;
  config: Pick<SyncConfig, 'batchEntriesMax' | 'callTimeoutMs'>;
  logger: Logger;
  /** Unix ms. */
  now: () => number;
}

interface Batch {
  batchId: string;
  entries: LedgerEntry[];
}

interface Loss {
  seq: number;
  entryId: string;
  amount: number;
  reason: string | undefined;
}

/** A batch the wallet answered (the answer checked), and what the answer says, before its rows are marked. */
interface Answered {
  batch: Batch;
  answer: BatchResult;
  step: Extract<BatchStep, { kind: 'uploaded' }>;
  losses: Loss[];
}

type Failure = Extract<BatchStep, { kind: 'failed' | 'chain_broken' }>;

/** How drain() ended: as a step that is not an upload, or `stopped` (the signal, or `mayContinue` said no). */
export type DrainEnd = Exclude<BatchStep, { kind: 'uploaded' }> | { kind: 'stopped' };

export interface DrainHooks {
  /** Asked before each send (the lease, say); false stops the drain. */
  mayContinue: () => boolean;
  /** Each batch the wallet answered, once the answer is checked (its rows are marked during the next send). */
  onBatch: (step: Extract<BatchStep, { kind: 'uploaded' }>) => void;
}

const ChainBrokenDetails = z.object({ seq: z.number().int().nonnegative(), problem: z.string().max(64) });

/** Rejections logged one by one per batch; the rest are counted in one line. */
const LOSSES_LOGGED_PER_BATCH = 20;

export function batchIdFor(entries: readonly LedgerEntry[]): string {
  const first = entries[0]!;
  const last = entries.at(-1)!;
  return `b${first.seq}-${last.seq}-${last.hash.slice(0, 16)}`;
}

export class LedgerUploader {
  readonly #deps: UploaderDeps;
  readonly #ledger: Ledger;
  readonly #log: Logger;
  readonly #s;
  /** The next batch, saved by the transaction that marked the one before. */
  #prepared: Batch | null = null;

  constructor(deps: UploaderDeps) {
    this.#deps = deps;
    this.#ledger = new Ledger(deps.db);
    this.#log = deps.logger;
    const { db } = deps;
    this.#s = {
      // Both after a seq: while a batch is at the wallet, the next batch is the one after it.
      openBatch: db.prepare<[number], { batch_id: string; first_seq: number; last_seq: number }>(
        `SELECT batch_id, first_seq, last_seq FROM sync_batches WHERE done_at IS NULL AND first_seq > ?
         ORDER BY first_seq LIMIT 1`,
      ),
      firstPending: db.prepare<[number], { ledger_seq: number }>(
        `SELECT ledger_seq FROM outbox INDEXED BY outbox_ledger_pending
         WHERE kind = 'ledger_entry' AND status = 'pending' AND ledger_seq > ? ORDER BY ledger_seq LIMIT 1`,
      ),
      // Saved and counted as sent before the send: after any crash the same id goes again with the same entries.
      saveBatch: db.prepare(
        `INSERT INTO sync_batches (batch_id, first_seq, last_seq, created_at, sends) VALUES (@batchId, @first, @last, @now, 1)
         ON CONFLICT (batch_id) DO UPDATE SET done_at = NULL, sends = sends + 1`,
      ),
      abandonBatch: db.prepare(
        "UPDATE sync_batches SET done_at = @now, last_error = 'abandoned: ledger differs' WHERE batch_id = @batchId",
      ),
      countSend: db.prepare('UPDATE sync_batches SET sends = sends + 1 WHERE batch_id = ?'),
      markRejected: db.prepare(
        `UPDATE outbox SET status = 'rejected', result_reason = @reason, done_at = @now, attempts = attempts + 1,
           last_error = NULL
         WHERE ledger_seq = @seq AND kind = 'ledger_entry' AND status = 'pending'`,
      ),
      // After the rejections: every row of the batch still pending was settled (one statement, not one per row).
      markSettled: db.prepare(
        `UPDATE outbox INDEXED BY outbox_ledger_pending SET status = 'done', done_at = @now, attempts = attempts + 1,
           last_error = NULL
         WHERE kind = 'ledger_entry' AND status = 'pending' AND ledger_seq BETWEEN @first AND @last`,
      ),
      finishBatch: db.prepare(
        `UPDATE sync_batches SET done_at = @now, settled = @settled, rejected = @rejected, last_error = NULL
         WHERE batch_id = @batchId`,
      ),
      failBatch: db.prepare('UPDATE sync_batches SET last_error = @error WHERE batch_id = @batchId'),
      failEntries: db.prepare(
        `UPDATE outbox INDEXED BY outbox_ledger_pending SET attempts = attempts + 1, last_error = @error
         WHERE kind = 'ledger_entry' AND status = 'pending' AND ledger_seq BETWEEN @first AND @last`,
      ),
    };
  }

  /** Sends the next batch, if any, and records the outcome (its rows marked). Never throws for a wallet fault. */
  async step(signal: AbortSignal): Promise<BatchStep> {
    const batch = await this.#takeBatch(0);
    if (batch === null) return { kind: 'idle' };
    const outcome = await this.#send(batch, signal);
    if (outcome.kind !== 'answered') return outcome;
    this.#prepared = this.#record(outcome.answered, 0);
    return outcome.answered.step;
  }

  /**
   * Sends batch after batch while they are full, one in flight at a time and in order, as step() would. While a
   * full batch is at the wallet, one transaction marks the rows of the batch answered before it and saves the batch
   * after it (saved before it is sent, as always). A crash before that transaction leaves the answered batch open:
   * it is resent with the same id, and the wallet answers it with its first answer. A batch short of the bound took
   * every entry that was waiting, so the drain ends with it: the entries of payments decided while it was at the
   * wallet are gathered for the next pass (sync/index.ts) rather than chased at once in a batch of one or two — at a
   * busy store that chase was a second upload per gather window, a durable transaction at the wallet beside the
   * authorizations and one more on this event loop. Every answered batch is marked before drain() returns.
   */
  async drain(signal: AbortSignal, hooks: DrainHooks): Promise<DrainEnd> {
    let answered: Answered | null = null;
    let caughtUp = false;
    try {
      for (;;) {
        if (signal.aborted || !hooks.mayContinue()) return { kind: 'stopped' };
        const batch = await this.#takeBatch(answered?.step.lastSeq ?? 0);
        if (batch === null) return { kind: 'idle' };
        caughtUp = batch.entries.length < this.#deps.config.batchEntriesMax;
        const outcome = await this.#send(batch, signal, () => {
          const previous = answered;
          answered = null;
          this.#prepared = this.#record(previous, caughtUp ? null : batch.entries.at(-1)!.seq);
          if (this.#prepared !== null) this.#deps.wallet.prepareBatch?.(this.#request(this.#prepared));
        });
        if (outcome.kind !== 'answered') return outcome;
        answered = outcome.answered;
        hooks.onBatch(answered.step);
        if (caughtUp) return { kind: 'idle' };
      }
    } finally {
      if (answered !== null) this.#prepared = this.#record(answered, caughtUp ? null : 0);
    }
  }

  /** The prepared batch, else the next one after `afterSeq`; null when nothing waits or the disk lost a write. */
  async #takeBatch(afterSeq: number): Promise<Batch | null> {
    // Only entries on disk go upstream: one the gateway could still lose would fork the chain at the wallet.
    try {
      await commitGroup(this.#deps.db).quiescent();
    } catch {
      this.#prepared = null;
      return null;
    }
    const batch = this.#prepared ?? this.#nextBatch(afterSeq);
    this.#prepared = null;
    return batch;
  }

  /**
   * Sends the batch and checks the answer; `meanwhile`, if given, runs once the request is on its way. A failure is
   * recorded (and drops a prepared batch: the failed one goes first again).
   */
  async #send(
    batch: Batch,
    signal: AbortSignal,
    meanwhile?: () => void,
  ): Promise<{ kind: 'answered'; answered: Answered } | Failure> {
    const call = deadline(signal, this.#deps.config.callTimeoutMs);
    try {
      const sending = this.#deps.wallet.uploadBatch(this.#request(batch), call.signal);
      if (meanwhile !== undefined) {
        // Handled here so that a quick failure is not an unhandled rejection while `meanwhile` runs.
        sending.catch(() => {});
        // Node hands a request's bytes to its socket a tick after the call: without this turn, the wallet would
        // see nothing of the batch until `meanwhile` is done.
        await new Promise((resolve) => setImmediate(resolve));
        meanwhile();
      }
      const answer = await sending;
      const problem = answerProblem(batch, answer);
      if (problem !== null) throw new WalletCallError('bad_response', problem);
      return { kind: 'answered', answered: answeredBatch(batch, answer) };
    } catch (error) {
      this.#prepared = null;
      return this.#fail(batch, error);
    } finally {
      call.dispose();
    }
  }

  #request(batch: Batch): LedgerBatch {
    return { storeId: this.#deps.storeId, batchId: batch.batchId, entries: batch.entries };
  }

  /** The open batch (saved, not yet answered), else a new one; saved and counted as sent. Null when nothing waits. */
  #nextBatch(afterSeq: number): Batch | null {
    const open = this.#s.openBatch.get(afterSeq);
    if (open !== undefined) {
      const entries = this.#ledger.after(open.first_seq - 1, open.last_seq - open.first_seq + 1);
      if (entries.length > 0 && batchIdFor(entries) === open.batch_id) {
        this.#s.countSend.run(open.batch_id);
        return { batchId: open.batch_id, entries };
      }
      this.#log.error(
        { batchId: open.batch_id },
        'a saved upload batch no longer matches the ledger; abandoning it',
      );
      this.#s.abandonBatch.run({ batchId: open.batch_id, now: this.#deps.now() });
    }
    return this.#newBatch(afterSeq);
  }

  #newBatch(afterSeq: number): Batch | null {
    const first = this.#s.firstPending.get(afterSeq);
    if (first === undefined) return null;
    const entries = this.#ledger.after(first.ledger_seq - 1, this.#deps.config.batchEntriesMax);
    if (entries.length === 0)
      throw new Error(`outbox names ledger seq ${first.ledger_seq}, which does not exist`);
    const batchId = batchIdFor(entries);
    this.#s.saveBatch.run({
      batchId,
      first: entries[0]!.seq,
      last: entries.at(-1)!.seq,
      now: this.#deps.now(),
    });
    return { batchId, entries };
  }

  /**
   * Marks the answered batch's rows (if any) and, in the same transaction (one commit per batch), saves the batch
   * after `afterSeq` so that it can be sent at once; returns that batch. `afterSeq` null: no next batch now.
   */
  #record(answered: Answered | null, afterSeq: number | null): Batch | null {
    if (answered === null && afterSeq === null) return null;
    const now = this.#deps.now();
    const next = this.#deps.db.transaction(() => {
      if (answered !== null) this.#markRows(answered, now);
      return afterSeq === null ? null : this.#nextBatch(afterSeq);
    })();
    if (answered !== null) this.#logLosses(answered.batch.batchId, answered.losses);
    return next;
  }

  #markRows({ batch, answer, step }: Answered, now: number): void {
    answer.results.forEach((result, i) => {
      if (result.status !== 'settled')
        this.#s.markRejected.run({ seq: batch.entries[i]!.seq, reason: result.reason ?? null, now });
    });
    // After the rejections: every row of the batch still pending was settled (one statement, not one per row).
    this.#s.markSettled.run({ first: batch.entries[0]!.seq, last: step.lastSeq, now });
    this.#s.finishBatch.run({ batchId: batch.batchId, settled: step.settled, rejected: step.rejected, now });
    setMeta(this.#deps.db, META_KEYS.lastSuccessAt, String(now));
    deleteMeta(this.#deps.db, META_KEYS.chainBroken);
  }

  #logLosses(
    batchId: string,
    losses: { seq: number; entryId: string; amount: number; reason?: string | undefined }[],
  ) {
    for (const loss of losses.slice(0, LOSSES_LOGGED_PER_BATCH)) {
      this.#log.warn({ batchId, ...loss }, 'the wallet rejected an approval: recorded as a store loss');
    }
    if (losses.length > LOSSES_LOGGED_PER_BATCH) {
      this.#log.warn(
        { batchId, more: losses.length - LOSSES_LOGGED_PER_BATCH },
        'more rejected approvals in this batch',
      );
    }
  }

  #fail(batch: Batch, error: unknown): Failure {
    if (!(error instanceof WalletCallError)) throw error;
    const first = batch.entries[0]!.seq;
    const last = batch.entries.at(-1)!.seq;
    if (error.status === 409 && error.code === 'chain_broken') return this.#chainBroken(batch, error);
    const message = error.message.slice(0, 200);
    this.#deps.db.transaction(() => {
      this.#s.failBatch.run({ batchId: batch.batchId, error: message });
      this.#s.failEntries.run({ error: message, first, last });
    })();
    const fields = { batchId: batch.batchId, first, last, failure: error.failure, status: error.status };
    // A refusal as such (400, 413, …) repeats on every retry: the backlog is stuck behind this batch until fixed.
    if (error.definitive)
      this.#log.error(fields, `the wallet refuses this batch as such, uploads are stuck: ${message}`);
    else this.#log.warn(fields, message);
    return { kind: 'failed', error: message };
  }

  #chainBroken(batch: Batch, error: WalletCallError): Failure {
    const details = ChainBrokenDetails.safeParse(error.details);
    const chainBroken: ChainBrokenInfo = {
      seq: details.success ? details.data.seq : batch.entries[0]!.seq,
      problem: details.success ? details.data.problem : 'unknown',
      detectedAt: new Date(this.#deps.now()).toISOString(),
    };
    this.#deps.db.transaction(() => {
      setMeta(this.#deps.db, META_KEYS.chainBroken, JSON.stringify(chainBroken));
      this.#s.failBatch.run({ batchId: batch.batchId, error: `chain_broken at seq ${chainBroken.seq}` });
    })();
    this.#log.error(
      { batchId: batch.batchId, ...chainBroken },
      'THE WALLET REFUSED THIS STORE LEDGER CHAIN (chain_broken): ledger uploads are stopped. ' +
        'Run `tillgate verify-ledger` and call the wallet operator; nothing is settled until this is resolved.',
    );
    return { kind: 'chain_broken', chainBroken };
  }
}

/** What a checked answer says: the step to report, and the rejected approvals (the store's losses). */
function answeredBatch(batch: Batch, answer: BatchResult): Answered {
  const losses: Loss[] = [];
  let rejected = 0;
  answer.results.forEach((result, i) => {
    if (result.status === 'settled') return;
    rejected += 1;
    const entry = batch.entries[i]!;
    if (entry.type === 'authorization')
      losses.push({ seq: entry.seq, entryId: entry.entryId, amount: entry.amount, reason: result.reason });
  });
  const step = {
    kind: 'uploaded' as const,
    batchId: batch.batchId,
    entries: batch.entries.length,
    lastSeq: batch.entries.at(-1)!.seq,
    settled: batch.entries.length - rejected,
    rejected,
    lossAmount: losses.reduce((sum, loss) => sum + loss.amount, 0),
  };
  return { batch, answer, step, losses };
}

/** Why an answer cannot be trusted to mark our rows, or null. The wallet answers entry by entry, in order. */
function answerProblem(batch: Batch, answer: BatchResult): string | null {
  if (answer.results.length !== batch.entries.length) {
    return `wallet answered ${answer.results.length} results for ${batch.entries.length} entries`;
  }
  const mismatch = answer.results.findIndex((result, i) => result.entryId !== batch.entries[i]!.entryId);
  if (mismatch >= 0) return `wallet result ${mismatch} names another entry`;
  if (answer.acceptedThroughSeq < batch.entries.at(-1)!.seq) {
    return `wallet accepted only through seq ${answer.acceptedThroughSeq}`;
  }
  return null;
}
