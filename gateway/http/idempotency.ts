// Idempotency-Key for POSTs that create something (CONTRACT §2): per register, the same key and body replay the
// first response; another body under the key is 422; a request still running under the key is 409.
// Kept in SQLite so that a register retrying after a gateway restart gets the first outcome, not a second payment.
import { createHash } from 'node:crypto';
import { commitGroup } from '../db/commit-group.js';
import type { Db } from '../db/open.js';
import { GatewayError } from '../errors.js';

export interface StoredResponse {
  status: number;
  body: unknown;
}

interface Row {
  request_hash: string;
  payment_id: string | null;
  status_code: number | null;
  response_json: string | null;
}

export type Claim =
  | { kind: 'new' }
  | { kind: 'replay'; response: StoredResponse }
  /** Started before a restart, with this payment created: answer with the payment as it is now. */
  | { kind: 'orphan'; paymentId: string };

export class IdempotencyStore {
  readonly #db: Db;
  readonly #inFlight = new Set<string>();
  readonly #s;

  constructor(db: Db) {
    this.#db = db;
    this.#s = {
      get: db.prepare<[string, string], Row>(
        'SELECT request_hash, payment_id, status_code, response_json FROM idempotency WHERE register_id = ? AND key = ?',
      ),
      insert: db.prepare(
        'INSERT INTO idempotency (register_id, key, request_hash, created_at) VALUES (?, ?, ?, ?)',
      ),
      setPayment: db.prepare('UPDATE idempotency SET payment_id = ? WHERE register_id = ? AND key = ?'),
      save: db.prepare(
        'UPDATE idempotency SET status_code = ?, response_json = ? WHERE register_id = ? AND key = ?',
      ),
      forget: db.prepare('DELETE FROM idempotency WHERE register_id = ? AND key = ? AND payment_id IS NULL'),
      purge: db.prepare('DELETE FROM idempotency WHERE created_at < ?'),
      purgeUnfinished: db.prepare(
        'DELETE FROM idempotency WHERE response_json IS NULL AND payment_id IS NULL',
      ),
    };
  }

  static requestHash(method: string, path: string, body: unknown): string {
    return createHash('sha256')
      .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
      .digest('hex');
  }

  /** At start: requests that died before creating anything may simply run again. */
  startUp(olderThanMs: number): void {
    this.#s.purgeUnfinished.run();
    this.#s.purge.run(olderThanMs);
  }

  purgeOlderThan(ms: number): void {
    this.#s.purge.run(ms);
  }

  claim(registerId: string, key: string, requestHash: string, nowMs: number): Claim {
    const slot = `${registerId}\n${key}`;
    return commitGroup(this.#db).write((): Claim => {
      const row = this.#s.get.get(registerId, key);
      if (row === undefined) {
        this.#s.insert.run(registerId, key, requestHash, nowMs);
        this.#inFlight.add(slot);
        return { kind: 'new' };
      }
      if (row.request_hash !== requestHash) {
        throw new GatewayError('idempotency_conflict', 'this Idempotency-Key was used with another request');
      }
      if (row.response_json !== null) {
        return {
          kind: 'replay',
          response: { status: row.status_code!, body: JSON.parse(row.response_json) },
        };
      }
      if (this.#inFlight.has(slot) || row.payment_id === null) {
        throw new GatewayError(
          'idempotency_in_flight',
          'a request with this Idempotency-Key is still running',
        );
      }
      return { kind: 'orphan', paymentId: row.payment_id };
    });
  }

  /** Links the key to the payment as soon as it exists, so a crash mid-request cannot make a second one. */
  linkPayment(registerId: string, key: string, paymentId: string): void {
    commitGroup(this.#db).write(() => this.#s.setPayment.run(paymentId, registerId, key));
  }

  save(registerId: string, key: string, response: StoredResponse): void {
    commitGroup(this.#db).write(() =>
      this.#s.save.run(response.status, JSON.stringify(response.body), registerId, key),
    );
    this.#inFlight.delete(`${registerId}\n${key}`);
  }

  /**
   * A request that failed for a passing reason (5xx) may be tried again under the same key, unless it had
   * already created its payment: then a retry is answered with that payment.
   */
  release(registerId: string, key: string): void {
    commitGroup(this.#db).write(() => this.#s.forget.run(registerId, key));
    this.#inFlight.delete(`${registerId}\n${key}`);
  }
}
