// The reconciliation summary of sync/: what is still to upload, what the wallet settled or rejected, the store's
// losses, the last success, a broken chain, and the risk feed's age. Read by /v1/status, `tillgate status` and metrics.
import * as z from 'zod';
import type { Db } from '../gateway/db/open.js';
import { getMetaJson, getMetaNumber, META_KEYS } from './meta.js';
import { feedState } from './risk-feed.js';
import { preparedOnce } from './statements.js';
import type { ChainBrokenInfo } from './uploader.js';

export interface SyncStatus {
  /** Ledger entries not yet answered by the wallet. */
  pending: number;
  settled: number;
  rejected: number;
  /** Rejected approvals that no void or reversal took back (view sync_losses), in minor units. */
  lossAmount: number;
  lossCount: number;
  pendingReversals: number;
  pendingRefunds: number;
  /** Age of the oldest outbox row of any kind still pending; null when none is. */
  oldestPendingAgeSec: number | null;
  /** RFC 3339 of the last call the wallet answered for the uploader; null before the first. */
  lastSuccessAt: string | null;
  chainBroken?: ChainBrokenInfo;
  feed: { cursor: string | null; refreshedAt: string | null; ageSec: number | null };
}

const ChainBrokenSchema = z.object({ seq: z.number(), problem: z.string(), detectedAt: z.string() });

const statements = preparedOnce({
  count: 'SELECT count(*) AS n FROM outbox WHERE kind = ? AND status = ?',
  oldest: "SELECT created_at FROM outbox WHERE kind = ? AND status = 'pending' ORDER BY id LIMIT 1",
  losses: 'SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount FROM sync_losses',
});

function count(db: Db, kind: string, status: string): number {
  return (statements(db).count.get(kind, status) as { n: number }).n;
}

function oldestPendingAt(db: Db): number | null {
  const times = ['ledger_entry', 'reversal', 'refund']
    .map((kind) => (statements(db).oldest.get(kind) as { created_at: number } | undefined)?.created_at)
    .filter((at): at is number => at !== undefined);
  return times.length === 0 ? null : Math.min(...times);
}

export function readChainBroken(db: Db): ChainBrokenInfo | null {
  const parsed = ChainBrokenSchema.safeParse(getMetaJson(db, META_KEYS.chainBroken));
  return parsed.success ? parsed.data : null;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function syncStatus(db: Db, nowMs: number = Date.now()): SyncStatus {
  const s = statements(db);
  const losses = s.losses.get() as { n: number; amount: number };
  const oldest = oldestPendingAt(db);
  const feed = feedState(db, nowMs);
  const chainBroken = readChainBroken(db);
  return {
    pending: count(db, 'ledger_entry', 'pending'),
    settled: count(db, 'ledger_entry', 'done'),
    rejected: count(db, 'ledger_entry', 'rejected'),
    lossAmount: losses.amount,
    lossCount: losses.n,
    pendingReversals: count(db, 'reversal', 'pending'),
    pendingRefunds: count(db, 'refund', 'pending'),
    oldestPendingAgeSec: oldest === null ? null : Math.max(0, Math.floor((nowMs - oldest) / 1000)),
    lastSuccessAt: iso(getMetaNumber(db, META_KEYS.lastSuccessAt)),
    ...(chainBroken === null ? {} : { chainBroken }),
    feed: { cursor: feed.cursor, refreshedAt: iso(feed.refreshedAt), ageSec: feed.ageSec },
  };
}
