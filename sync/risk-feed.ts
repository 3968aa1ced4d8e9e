// The risk-feed follower (CONTRACT §3.4): long-polls the wallet with the cursor kept in SQLite, applies each page
// (freezes, unfreezes, device revocations, issuer keys, limit changes) and the new cursor in one transaction, and
// records every successful call as the feed's refresh time — offline acceptance stops when that gets old (§4).
// When long polls fail it falls back to plain polling with backoff, and tries a long poll again later.
import type { Logger } from 'pino';
import * as z from 'zod';
import type { Db } from '../gateway/db/open.js';
import { withDeadline } from '../gateway/deadline.js';
import type { RiskFeedPage, WalletClient } from '../gateway/wallet-client/wallet-client.js';
import { backoffDelayMs, sleep } from './backoff.js';
import type { SyncConfig } from './config.js';
import { getMeta, getMetaJson, getMetaNumber, META_KEYS, setMeta } from './meta.js';
import { preparedOnce } from './statements.js';

const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);
const Money = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** The offline limits the wallet may change, under the gateway's config names (`offline.*`). Unknown names are dropped. */
export const FeedLimitsSchema = z.object({
  perTransactionLimit: Money.optional(),
  perDeviceLimit: Money.optional(),
  consecutiveMax: z.number().int().positive().max(1000).optional(),
  storeLimit: Money.optional(),
  feedMaxAgeSec: z.number().int().positive().optional(),
  deviceMinAgeSec: z.number().int().nonnegative().optional(),
  restrictedCategories: z.array(z.string().min(1).max(64)).max(100).optional(),
});
export type FeedLimits = z.infer<typeof FeedLimitsSchema>;

const CreatedAt = { createdAt: z.number().int().nonnegative().optional() };

export const RiskEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('account_frozen'), accountId: Hex16, ...CreatedAt }),
  z.object({ type: z.literal('account_unfrozen'), accountId: Hex16, ...CreatedAt }),
  z.object({ type: z.literal('device_revoked'), deviceId: Hex16, ...CreatedAt }),
  z.object({
    type: z.literal('issuer_key_added'),
    kid: z.number().int().min(0).max(255),
    publicKey: z.string().regex(/^[0-9a-f]{64}$/),
    ...CreatedAt,
  }),
  z.object({ type: z.literal('issuer_key_revoked'), kid: z.number().int().min(0).max(255), ...CreatedAt }),
  z.looseObject({ type: z.literal('limits_changed'), ...CreatedAt }),
]);
export type RiskEvent = z.infer<typeof RiskEventSchema>;

const KNOWN_TYPES = new Set<string>(RiskEventSchema.options.map((option) => option.shape.type.value));

export class RiskFeedError extends Error {
  override readonly name = 'RiskFeedError';
}

export interface FeedState {
  cursor: string | null;
  /** Unix ms of the last successful feed call, or null before the first. */
  refreshedAt: number | null;
  ageSec: number | null;
}

export function feedState(db: Db, nowMs: number = Date.now()): FeedState {
  const refreshedAt = getMetaNumber(db, META_KEYS.feedRefreshedAt);
  return {
    cursor: getMeta(db, META_KEYS.feedCursor),
    refreshedAt,
    ageSec: refreshedAt === null ? null : Math.max(0, Math.floor((nowMs - refreshedAt) / 1000)),
  };
}

/** The limits the wallet has set so far (merged over every limits_changed), to lay over config `offline.*`. */
export function feedLimits(db: Db): FeedLimits {
  const parsed = FeedLimitsSchema.safeParse(getMetaJson(db, META_KEYS.offlineLimits) ?? {});
  return parsed.success ? parsed.data : {};
}

/**
 * Checks a page, then applies its events, the cursor and the refresh time in one transaction. A malformed event
 * of a known type throws and applies nothing (a freeze is never skipped); unknown types are skipped and returned.
 */
export function applyRiskPage(
  db: Db,
  page: RiskFeedPage,
  nowMs: number,
): { applied: RiskEvent[]; skipped: string[] } {
  const applied: RiskEvent[] = [];
  const skipped: string[] = [];
  for (const [i, raw] of page.events.entries()) {
    if (!KNOWN_TYPES.has(raw.type)) {
      skipped.push(raw.type);
      continue;
    }
    const parsed = RiskEventSchema.safeParse(raw);
    if (!parsed.success) throw new RiskFeedError(`risk feed event ${i} (${raw.type}) is malformed`);
    applied.push(parsed.data);
  }
  db.transaction(() => {
    for (const event of applied) applyEvent(db, event, nowMs);
    setMeta(db, META_KEYS.feedCursor, page.cursor);
    setMeta(db, META_KEYS.feedRefreshedAt, String(nowMs));
  })();
  return { applied, skipped };
}

const statementsFor = preparedOnce({
  freeze: 'INSERT OR IGNORE INTO frozen_accounts (account_id, since) VALUES (?, ?)',
  unfreeze: 'DELETE FROM frozen_accounts WHERE account_id = ?',
  revokeDevice: 'INSERT OR IGNORE INTO revoked_devices (device_id, since) VALUES (?, ?)',
  addKey: `INSERT INTO issuer_keys (kid, public_key, revoked, updated_at) VALUES (?, ?, 0, ?)
    ON CONFLICT (kid) DO UPDATE SET public_key = excluded.public_key, updated_at = excluded.updated_at`,
  revokeKey: 'UPDATE issuer_keys SET revoked = 1, updated_at = ? WHERE kid = ?',
});

/** Writes one event into the deny-lists, the issuer keys or the limits; runs inside the page's transaction. */
function applyEvent(db: Db, event: RiskEvent, nowMs: number): void {
  const s = statementsFor(db);
  const since = event.createdAt === undefined ? nowMs : event.createdAt * 1000;
  switch (event.type) {
    case 'account_frozen':
      s.freeze.run(event.accountId, since);
      return;
    case 'account_unfrozen':
      s.unfreeze.run(event.accountId);
      return;
    case 'device_revoked':
      s.revokeDevice.run(event.deviceId, since);
      return;
    case 'issuer_key_added':
      s.addKey.run(event.kid, event.publicKey, nowMs);
      return;
    case 'issuer_key_revoked':
      s.revokeKey.run(nowMs, event.kid);
      return;
    case 'limits_changed':
      mergeLimits(db, event);
      return;
  }
}

function mergeLimits(db: Db, event: Record<string, unknown>): void {
  const { type: _type, createdAt: _createdAt, seq: _seq, ...fields } = event;
  const change = FeedLimitsSchema.safeParse(fields);
  if (!change.success) throw new RiskFeedError('risk feed limits_changed carries an invalid limit');
  setMeta(db, META_KEYS.offlineLimits, JSON.stringify({ ...feedLimits(db), ...change.data }));
}

export interface FollowerDeps {
  db: Db;
  wallet: WalletClient;
  storeId: string;
  config: Pick<
    SyncConfig,
    | 'feedWaitMs'
    | 'feedPollIntervalMs'
    | 'feedLongPollRetryMs'
    | 'callTimeoutMs'
    | 'retryInitialDelayMs'
    | 'retryMaxDelayMs'
    | 'feedEventsPerPageMax'
  >;
  logger: Logger;
  now: () => number;
  random: () => number;
  /** Called after each page that applied events has committed. */
  onApplied?: ((events: RiskEvent[]) => void) | undefined;
}

export type FeedMode = 'long_poll' | 'polling';

export class RiskFeedFollower {
  readonly #deps: FollowerDeps;
  readonly #stopping = new AbortController();
  #running: Promise<void> | null = null;
  #mode: FeedMode = 'long_poll';
  #failures = 0;

  constructor(deps: FollowerDeps) {
    this.#deps = deps;
  }

  get mode(): FeedMode {
    return this.#mode;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
  }

  /** One feed call with the stored cursor and the given wait; applies what comes back. */
  async pollOnce(waitMs: number, signal: AbortSignal = this.#stopping.signal): Promise<RiskEvent[]> {
    const { db, wallet, storeId, config } = this.#deps;
    const page = await withDeadline(signal, waitMs + config.callTimeoutMs, (call) =>
      wallet.riskFeed(storeId, getMeta(db, META_KEYS.feedCursor), waitMs, call),
    );
    if (page.events.length > config.feedEventsPerPageMax) {
      throw new RiskFeedError(`risk feed page of ${page.events.length} events is over the bound`);
    }
    const { applied, skipped } = applyRiskPage(db, page, this.#deps.now());
    if (skipped.length > 0) this.#deps.logger.warn({ skipped }, 'risk feed events of unknown types skipped');
    if (applied.length > 0) this.#announce(applied);
    return applied;
  }

  #announce(events: RiskEvent[]): void {
    this.#deps.logger.info(
      { events: events.map(describeEvent), cursor: getMeta(this.#deps.db, META_KEYS.feedCursor) },
      'risk feed applied',
    );
    try {
      this.#deps.onApplied?.(events);
    } catch (error) {
      this.#deps.logger.error({ err: error }, 'risk feed onApplied callback failed');
    }
  }

  async #loop(): Promise<void> {
    const signal = this.#stopping.signal;
    let longPollAgainAt = 0;
    while (!signal.aborted) {
      this.#mode = this.#deps.now() >= longPollAgainAt ? 'long_poll' : 'polling';
      try {
        await this.pollOnce(this.#mode === 'long_poll' ? this.#deps.config.feedWaitMs : 0, signal);
        this.#failures = 0;
        if (this.#mode === 'polling') await sleep(this.#deps.config.feedPollIntervalMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#failures += 1;
        if (this.#mode === 'long_poll')
          longPollAgainAt = this.#deps.now() + this.#deps.config.feedLongPollRetryMs;
        await sleep(this.#retryDelay(error), signal);
      }
    }
  }

  #retryDelay(error: unknown): number {
    const { config, random } = this.#deps;
    const policy = { initialDelayMs: config.retryInitialDelayMs, maxDelayMs: config.retryMaxDelayMs };
    const delayMs = backoffDelayMs(policy, this.#failures, random);
    const level = error instanceof RiskFeedError ? 'error' : 'warn';
    this.#deps.logger[level](
      { failures: this.#failures, retryInMs: delayMs, mode: this.#mode, err: error },
      this.#mode === 'long_poll'
        ? 'risk feed long poll failed; polling instead for a while'
        : 'risk feed poll failed',
    );
    return delayMs;
  }
}

function describeEvent(event: RiskEvent): string {
  switch (event.type) {
    case 'account_frozen':
    case 'account_unfrozen':
      return `${event.type} ${event.accountId}`;
    case 'device_revoked':
      return `${event.type} ${event.deviceId}`;
    case 'issuer_key_added':
    case 'issuer_key_revoked':
      return `${event.type} ${event.kid}`;
    default:
      return event.type;
  }
}
