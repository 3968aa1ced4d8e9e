// The risk feed (CONTRACT §3.4): events are written to SQLite in the transaction that made the change,
// served after a cursor, and a held long poll is woken in-process as soon as an event commits.
import { all, type Db, run } from './db.js';

export const RISK_EVENT_TYPES = [
  'account_frozen',
  'account_unfrozen',
  'device_revoked',
  'issuer_key_added',
  'issuer_key_revoked',
  'limits_changed',
] as const;
export type RiskEventType = (typeof RISK_EVENT_TYPES)[number];

export const FEED_LIMITS = {
  pageEventsMax: 500,
  waitMsMax: 30_000,
  /** Long polls held at once; one more is answered at once with what there is. */
  waitersMax: 1_000,
} as const;

export interface RiskEvent {
  seq: number;
  type: RiskEventType;
  createdAt: number;
  [field: string]: unknown;
}

export interface FeedPage {
  cursor: string;
  events: RiskEvent[];
}

interface EventRow {
  seq: number;
  type: RiskEventType;
  payload_json: string;
  created_at: number;
}

export class RiskFeed {
  readonly #db: Db;
  readonly #clock: () => number;
  readonly #waiters = new Set<() => void>();

  constructor(db: Db, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * Appends an event. Call it inside the transaction that made the change so both commit or neither.
   * The wake-up is a microtask: it runs after the synchronous transaction has committed (or rolled back,
   * in which case the woken polls find nothing and wait on).
   */
  publish(type: RiskEventType, fields: Record<string, unknown>): void {
    run(
      this.#db,
      'INSERT INTO risk_events (type, payload_json, created_at) VALUES (?, ?, ?)',
      type,
      JSON.stringify(fields),
      this.#clock(),
    );
    queueMicrotask(() => this.#wakeAll());
  }

  page(afterSeq: number): FeedPage {
    const rows = all<EventRow>(
      this.#db,
      'SELECT seq, type, payload_json, created_at FROM risk_events WHERE seq > ? ORDER BY seq LIMIT ?',
      afterSeq,
      FEED_LIMITS.pageEventsMax,
    );
    const events = rows.map((row) => ({
      ...JSON.parse(row.payload_json),
      seq: row.seq,
      type: row.type,
      createdAt: row.created_at,
    }));
    const last = rows.at(-1);
    return { cursor: String(last ? last.seq : afterSeq), events };
  }

  /** Events after `afterSeq`; when there are none, waits up to `waitMs` for one, or until `signal` aborts. */
  async poll(afterSeq: number, waitMs: number, signal: AbortSignal): Promise<FeedPage> {
    const deadline = Date.now() + Math.min(waitMs, FEED_LIMITS.waitMsMax);
    let page = this.page(afterSeq);
    while (
      page.events.length === 0 &&
      !signal.aborted &&
      Date.now() < deadline &&
      this.#waiters.size < FEED_LIMITS.waitersMax
    ) {
      await this.#nextWake(deadline - Date.now(), signal);
      page = this.page(afterSeq);
    }
    return page;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  #nextWake(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
