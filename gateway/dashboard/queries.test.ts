// The dashboard's reads on a real SQLite file: payments per hour by outcome and mode (the current hour included),
// declines by reason, nothing outside the window or from another lane counted twice, the latest payments first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../db/open.js';
import { PaymentRepository } from '../payments/repository.js';
import { DashboardQueries } from './queries.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 25, 14, 20);
let dir: string;
let db: Db;
let repo: PaymentRepository;
let seq = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillgate-dashboard-'));
  db = openDatabase(join(dir, 'gateway.sqlite'));
  repo = new PaymentRepository(db);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function payment(
  laneId: string,
  createdAt: number,
  outcome: 'approved' | 'declined' | 'open' | 'cancelled',
  extra: { mode?: 'online' | 'offline'; reason?: string } = {},
): string {
  const id = `p-${++seq}`;
  repo.insert({
    id,
    register_id: 'r',
    lane_id: laneId,
    state: 'awaiting_scan',
    amount: 100,
    currency: 'JPY',
    order_ref: id,
    basket_json: null,
    created_at: createdAt,
    scan_deadline_at: null,
  });
  if (outcome === 'approved')
    repo.update(id, ['awaiting_scan'], {
      state: 'approved',
      approved: 1,
      mode: extra.mode ?? 'online',
      decided_at: createdAt + 1,
    });
  if (outcome === 'declined') {
    repo.update(id, ['awaiting_scan'], {
      state: 'declined',
      approved: 0,
      mode: extra.mode ?? 'online',
      reason: (extra.reason ?? 'insufficient_funds') as never,
      decided_at: createdAt + 1,
    });
  }
  if (outcome === 'cancelled') repo.update(id, ['awaiting_scan'], { state: 'cancelled' });
  return id;
}

describe('DashboardQueries.activity', () => {
  it('counts decided payments per hour by outcome and mode, the current hour last', () => {
    payment('lane-1', NOW - 5 * 60_000, 'approved');
    payment('lane-2', NOW - 10 * 60_000, 'approved', { mode: 'offline' });
    payment('lane-1', NOW - HOUR, 'declined', { reason: 'code_replayed' });
    payment('lane-2', NOW - 2 * HOUR, 'declined', { reason: 'code_replayed' });
    payment('lane-1', NOW - 2 * HOUR, 'declined', { reason: 'insufficient_funds' });
    payment('lane-1', NOW - 3 * 60_000, 'open');
    payment('lane-1', NOW - 4 * 60_000, 'cancelled');
    payment('lane-1', NOW - 3 * HOUR - 30 * 60_000, 'approved');
    const activity = new DashboardQueries(db).activity(['lane-1', 'lane-2'], 3, NOW);
    expect(activity.hours.map((h) => new Date(h.startMs).toISOString())).toEqual([
      '2026-11-25T12:00:00.000Z',
      '2026-11-25T13:00:00.000Z',
      '2026-11-25T14:00:00.000Z',
    ]);
    expect(
      activity.hours.map(({ approvedOnline, approvedOffline, declined }) => [
        approvedOnline,
        approvedOffline,
        declined,
      ]),
    ).toEqual([
      [0, 0, 2],
      [0, 0, 1],
      [1, 1, 0],
    ]);
    expect(activity.declinesByReason).toEqual([
      { reason: 'code_replayed', count: 2 },
      { reason: 'insufficient_funds', count: 1 },
    ]);
  });

  it('counts only the lanes it is given', () => {
    payment('lane-9', NOW - 60_000, 'approved');
    const activity = new DashboardQueries(db).activity(['lane-1'], 1, NOW);
    expect(activity.hours[0]!.approvedOnline).toBe(0);
  });
});

describe('DashboardQueries.recentPayments', () => {
  it('lists the latest payments first, bounded', () => {
    const ids = [1, 2, 3].map((i) => payment('lane-1', NOW + i, 'approved'));
    expect(new DashboardQueries(db).recentPayments(2).map((p) => p.id)).toEqual([ids[2], ids[1]]);
  });
});
