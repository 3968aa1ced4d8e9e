// Where offline acceptance reads what sync/ learns from the risk feed: the feed's last refresh time and the
// limits the wallet set. sync/ writes both into the `meta` table; these two readers are the only places that
// read them for decisions, so the keys live here once (feed-source.test.ts checks they match sync/'s).
import type { Db } from '../db/open.js';

/** Unix ms of the last successful risk-feed call, as text. Absent: never refreshed. */
export const FEED_REFRESHED_AT_KEY = 'feed.refreshedAt';
/** JSON object of `offline.*` names the wallet changed (limits_changed events, merged). */
export const OFFLINE_LIMITS_KEY = 'offline.limits';

type Statement = ReturnType<Db['prepare']>;
const statements = new WeakMap<Db, Statement>();

function readMeta(db: Db, key: string): string | null {
  let get = statements.get(db);
  if (get === undefined) {
    get = db.prepare('SELECT value FROM meta WHERE key = ?');
    statements.set(db, get);
  }
  const row = get.get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

/** Unix ms of the feed's last refresh, or null when it never happened (or the value is not a time). */
export function readFeedRefreshedAt(db: Db): number | null {
  const value = readMeta(db, FEED_REFRESHED_AT_KEY);
  if (value === null) return null;
  const ms = Number(value);
  return Number.isSafeInteger(ms) && ms >= 0 ? ms : null;
}

/** The stored limit changes as text (JSON), unparsed: limits.ts validates and merges them over config. */
export function readLimitOverrides(db: Db): string | null {
  return readMeta(db, OFFLINE_LIMITS_KEY);
}
