// The issuer keys the gateway trusts (CONTRACT §1.1 check 2), kept in SQLite so that offline checks survive
// restarts. Fetched from the wallet at start and when a code names an unknown kid (at most once per interval);
// the risk feed updates the table and calls invalidate().
import type { Logger } from 'pino';
import type { Db } from '../db/open.js';
import { type IssuerKey, IssuerKeyRing } from '../paycode/verify.js';
import type { IssuerKeyInfo, WalletClient } from '../wallet-client/wallet-client.js';

/** The trusted keys as the table holds them; `toIssuerKey` reads a row (also for readers without a store). */
export const ISSUER_KEYS_SQL = 'SELECT kid, public_key, revoked FROM issuer_keys';

export interface IssuerKeyRow {
  kid: number;
  public_key: string;
  revoked: number;
}

export function toIssuerKey(row: IssuerKeyRow): IssuerKey {
  return { kid: row.kid, publicKey: row.public_key, revoked: row.revoked === 1 };
}

export interface IssuerKeyStoreOptions {
  db: Db;
  wallet: WalletClient;
  logger: Logger;
  now: () => number;
  /** Fewest ms between two fetches prompted by unknown kids: a flood of forged codes cannot flood the wallet. */
  refreshIntervalMs: number;
  fetchTimeoutMs: number;
}

export class IssuerKeyStore {
  readonly #options: IssuerKeyStoreOptions;
  readonly #all;
  readonly #upsert;
  #ring: IssuerKeyRing | null = null;
  #lastFetchAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<boolean> | null = null;

  constructor(options: IssuerKeyStoreOptions) {
    this.#options = options;
    this.#all = options.db.prepare<[], IssuerKeyRow>(ISSUER_KEYS_SQL);
    this.#upsert = options.db.prepare(
      `INSERT INTO issuer_keys (kid, public_key, revoked, updated_at) VALUES (@kid, @publicKey, @revoked, @now)
       ON CONFLICT (kid) DO UPDATE SET public_key = excluded.public_key,
         revoked = max(revoked, excluded.revoked), updated_at = excluded.updated_at`,
    );
  }

  ring(): IssuerKeyRing {
    if (this.#ring === null) {
      this.#ring = new IssuerKeyRing(this.#all.all().map(toIssuerKey));
    }
    return this.#ring;
  }

  /** Call after the table changed (risk feed); the next ring() reads it again. */
  invalidate(): void {
    this.#ring = null;
  }

  save(keys: readonly IssuerKeyInfo[]): void {
    const now = this.#options.now();
    this.#options.db.transaction(() => {
      for (const k of keys)
        this.#upsert.run({ kid: k.kid, publicKey: k.publicKey, revoked: k.revoked ? 1 : 0, now });
    })();
    this.invalidate();
  }

  /** Fetches the wallet's keys unless a fetch happened within the interval. True when keys were fetched. */
  refresh(options: { force?: boolean } = {}): Promise<boolean> {
    // A check that meets an unknown kid while a fetch is under way waits for that fetch.
    if (this.#inFlight !== null) return this.#inFlight;
    const now = this.#options.now();
    if (!options.force && now - this.#lastFetchAt < this.#options.refreshIntervalMs)
      return Promise.resolve(false);
    this.#lastFetchAt = now;
    this.#inFlight = this.#fetch().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #fetch(): Promise<boolean> {
    try {
      const keys = await this.#options.wallet.issuerKeys(AbortSignal.timeout(this.#options.fetchTimeoutMs));
      this.save(keys);
      return true;
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'could not fetch issuer keys from the wallet');
      return false;
    }
  }
}
