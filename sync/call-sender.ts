// Reversals and refunds waiting in the outbox (CONTRACT §3.1): each is repeated with its stable id until the wallet
// gives a definitive answer, each row on its own backoff so one stuck call never holds up the others.
// A refund's outcome is handed to the payments side (onRefundSettled, idempotent) before its row is marked, so a
// crash between the two only repeats the call and the callback.
import type { Logger } from 'pino';
import { commitGroup } from '../gateway/db/commit-group.js';
import type { Db } from '../gateway/db/open.js';
import { withDeadline } from '../gateway/deadline.js';
import { WalletCallError, type WalletClient } from '../gateway/wallet-client/wallet-client.js';
import { type BackoffPolicy, backoffDelayMs } from './backoff.js';
import { META_KEYS, setMeta } from './meta.js';

export type RefundOutcome = { ok: true } | { ok: false; reason: string };
export type RefundSettled = (refundId: string, outcome: RefundOutcome) => void | Promise<void>;

export interface CallSenderDeps {
  db: Db;
  wallet: WalletClient;
  logger: Logger;
  now: () => number;
  random: () => number;
  backoff: BackoffPolicy;
  callTimeoutMs: number;
  callsPerPassMax: number;
  /** Absent (as in `tillgate sync`): refund rows are left for the gateway, which owns the refund's ledger entry. */
  onRefundSettled?: RefundSettled | undefined;
}

export interface CallsSummary {
  done: number;
  rejected: number;
  failed: number;
  deferred: number;
}

interface CallRow {
  id: number;
  kind: 'reversal' | 'refund';
  authorization_id: string | null;
  refund_id: string | null;
  amount: number | null;
  attempts: number;
}

type CallOutcome = 'done' | 'rejected' | 'failed' | 'deferred';

/** Statuses whose answer will not change on a repeat: the call itself is refused. */
const DEFINITIVE_STATUSES = new Set([400, 404, 409, 422]);

export class CallSender {
  readonly #deps: CallSenderDeps;
  readonly #s;

  constructor(deps: CallSenderDeps) {
    this.#deps = deps;
    const { db } = deps;
    this.#s = {
      due: db.prepare<[string, number, number], CallRow>(
        `SELECT id, kind, authorization_id, refund_id, amount, attempts FROM outbox
         WHERE kind = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
      ),
      finish: db.prepare(
        `UPDATE outbox SET status = @status, result_reason = @reason, done_at = @now, attempts = attempts + 1,
           last_error = NULL WHERE id = @id AND status = 'pending'`,
      ),
      retryLater: db.prepare(
        `UPDATE outbox SET attempts = attempts + 1, last_error = @error, next_attempt_at = @next
         WHERE id = @id AND status = 'pending'`,
      ),
      defer: db.prepare("UPDATE outbox SET next_attempt_at = @next WHERE id = @id AND status = 'pending'"),
      uploadPending: db.prepare<[string], { one: number }>(
        `SELECT 1 AS one FROM ledger l CROSS JOIN outbox o ON o.ledger_seq = l.seq
         WHERE l.authorization_id = ? AND l.mode = 'offline' AND o.kind = 'ledger_entry' AND o.status = 'pending'
         LIMIT 1`,
      ),
    };
  }

  /**
   * Sends the calls that are due, reversals first (they give a customer money back), at most callsPerPassMax.
   * `deferRefundsBehindUpload`: a refund of an offline approval whose ledger entry is not uploaded yet waits, since
   * the wallet learns of offline approvals only from the upload.
   */
  async sendDue(
    signal: AbortSignal,
    deferRefundsBehindUpload: boolean,
    keepGoing: () => boolean = () => true,
  ): Promise<CallsSummary> {
    const summary: CallsSummary = { done: 0, rejected: 0, failed: 0, deferred: 0 };
    // Only calls on disk go upstream.
    try {
      await commitGroup(this.#deps.db).quiescent();
    } catch {
      return summary;
    }
    const now = this.#deps.now();
    const reversals = this.#s.due.all('reversal', now, this.#deps.callsPerPassMax);
    const refunds = this.#deps.onRefundSettled
      ? this.#s.due.all('refund', now, this.#deps.callsPerPassMax - reversals.length)
      : [];
    for (const row of [...reversals, ...refunds]) {
      if (signal.aborted || !keepGoing()) break;
      const outcome = await this.#send(row, signal, deferRefundsBehindUpload);
      summary[outcome] += 1;
      // One failure is enough to know the wallet is in trouble: the others wait for the next pass.
      if (outcome === 'failed') break;
    }
    return summary;
  }

  async #send(row: CallRow, signal: AbortSignal, deferRefunds: boolean): Promise<CallOutcome> {
    if (row.kind === 'refund' && deferRefunds && this.#s.uploadPending.get(row.authorization_id!)) {
      this.#s.defer.run({ id: row.id, next: this.#deps.now() + this.#deps.backoff.initialDelayMs });
      return 'deferred';
    }
    try {
      await withDeadline(signal, this.#deps.callTimeoutMs, (call) =>
        row.kind === 'reversal'
          ? this.#deps.wallet.reverse(row.authorization_id!, call)
          : this.#refund(row, call),
      );
      return this.#finish(row, { ok: true });
    } catch (error) {
      return await this.#failed(row, error);
    }
  }

  async #refund(row: CallRow, signal: AbortSignal): Promise<void> {
    await this.#deps.wallet.refund(
      { id: row.refund_id!, authorizationId: row.authorization_id!, amount: row.amount! },
      signal,
    );
    await this.#deps.onRefundSettled!(row.refund_id!, { ok: true });
  }

  async #failed(row: CallRow, error: unknown): Promise<CallOutcome> {
    const reason = definitiveReason(error);
    if (reason === null) return this.#retryLater(row, error);
    if (row.kind === 'refund') {
      try {
        await this.#deps.onRefundSettled!(row.refund_id!, { ok: false, reason });
      } catch (callbackError) {
        return this.#retryLater(row, callbackError);
      }
    }
    return this.#finish(row, { ok: false, reason });
  }

  #finish(row: CallRow, outcome: RefundOutcome): CallOutcome {
    const now = this.#deps.now();
    const reason = outcome.ok ? null : outcome.reason;
    this.#deps.db.transaction(() => {
      this.#s.finish.run({ id: row.id, status: outcome.ok ? 'done' : 'rejected', reason, now });
      setMeta(this.#deps.db, META_KEYS.lastSuccessAt, String(now));
    })();
    const fields = {
      outboxId: row.id,
      kind: row.kind,
      authorizationId: row.authorization_id,
      refundId: row.refund_id,
    };
    if (outcome.ok) this.#deps.logger.info(fields, `${row.kind} confirmed by the wallet`);
    else this.#deps.logger.error({ ...fields, reason }, `the wallet refused the ${row.kind}`);
    return outcome.ok ? 'done' : 'rejected';
  }

  #retryLater(row: CallRow, error: unknown): CallOutcome {
    const delay = backoffDelayMs(this.#deps.backoff, row.attempts + 1, this.#deps.random);
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 200);
    this.#s.retryLater.run({ id: row.id, error: message, next: this.#deps.now() + delay });
    this.#deps.logger.warn(
      { outboxId: row.id, kind: row.kind, attempts: row.attempts + 1, retryInMs: delay },
      message,
    );
    return 'failed';
  }
}

/** The reason to record when the wallet refused the call itself; null when the call may still succeed. */
function definitiveReason(error: unknown): string | null {
  if (!(error instanceof WalletCallError) || error.failure !== 'http' || error.status === undefined)
    return null;
  if (!DEFINITIVE_STATUSES.has(error.status)) return null;
  return error.code ?? `http_${error.status}`;
}
