// The meta keys sync/ keeps in the gateway's `meta` table, and small typed readers and writers for them.
// Statements are prepared once per database handle.
import type { Db } from '../gateway/db/open.js';
import { preparedOnce } from './statements.js';

export const META_KEYS = {
  /** Unix ms of the last call the wallet answered for the uploader (a batch or a reversal/refund). */
  lastSuccessAt: 'sync.lastSuccessAt',
  /** JSON {seq, problem, detectedAt}: the wallet refused our chain; uploading stops until it accepts a batch. */
  chainBroken: 'sync.chainBroken',
  feedCursor: 'feed.cursor',
  /** Unix ms of the last successful risk-feed call, empty or not. */
  feedRefreshedAt: 'feed.refreshedAt',
  /** JSON of the offline limits the wallet set (limits_changed, merged); they override config `offline.*`. */
  offlineLimits: 'offline.limits',
} as const;

const statements = preparedOnce({
  get: 'SELECT value FROM meta WHERE key = ?',
  set: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  del: 'DELETE FROM meta WHERE key = ?',
});

export function getMeta(db: Db, key: string): string | null {
  const row = statements(db).get.get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

export function setMeta(db: Db, key: string, value: string): void {
  statements(db).set.run(key, value);
}

export function deleteMeta(db: Db, key: string): void {
  statements(db).del.run(key);
}

export function getMetaNumber(db: Db, key: string): number | null {
  const value = getMeta(db, key);
  if (value === null) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export function getMetaJson(db: Db, key: string): unknown {
  const value = getMeta(db, key);
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}
