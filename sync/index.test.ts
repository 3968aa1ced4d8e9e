// startSync as the gateway runs it: the background uploader paced by its timer and woken by notify(), the feed
// follower, status() for /v1/status, metrics on the registry given, and a clean stop.
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SyncFixture, startSyncFixture, waitFor } from '../test/support/sync-fixture.js';
import { type RiskEvent, type SyncHandle, startSync } from './index.js';
import { UPLOADER_LEASE } from './worker.js';

let f: SyncFixture;
let sync: SyncHandle | null = null;

beforeEach(async () => {
  f = await startSyncFixture({ idleIntervalMs: 60_000 });
});

afterEach(async () => {
  await sync?.stop();
  await f.close();
});

describe('startSync', () => {
  it('uploads on notify(), follows the feed (a freeze within 2 s), and exposes status and metrics', async () => {
    const registry = new Registry();
    const applied: RiskEvent[] = [];
    const c = await f.customer(10_000);
    f.offline(c, 1_000);
    const handle = startSync(f.syncOptions({ onFeedApplied: (events) => applied.push(...events), registry }));
    sync = handle;
    await waitFor(() => handle.status().settled === 1, 2_000, 'the first pass');
    f.offline(c, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(handle.status().pending).toBe(1);
    handle.notify();
    await waitFor(() => handle.status().settled === 2, 2_000, 'the pass notify() asked for');

    await waitFor(() => applied.length > 0, 2_000, 'the first feed page');
    const frozenAt = performance.now();
    await f.tw.admin('POST', `/v1/sandbox/accounts/${c.accountId}/freeze`);
    await waitFor(
      () => f.db.prepare('SELECT 1 FROM frozen_accounts WHERE account_id = ?').get(c.accountId) !== undefined,
      2_000,
      'the freeze',
    );
    expect(performance.now() - frozenAt).toBeLessThan(2_000);
    expect(applied.map((e) => e.type)).toEqual(['issuer_key_added', 'account_frozen']);

    const status = handle.status();
    expect(status).toMatchObject({
      pending: 0,
      settled: 2,
      rejected: 0,
      lossAmount: 0,
      oldestPendingAgeSec: null,
    });
    expect(status.feed.ageSec).toBeLessThanOrEqual(1);
    expect(status.feed.cursor).toBe('2');
    const metrics = await registry.metrics();
    expect(metrics).toContain('tillgate_sync_outbox_depth{kind="ledger_entry"} 0');
    expect(metrics).toContain('tillgate_sync_uploaded_entries_total{result="settled"} 2');
    expect(metrics).toMatch(/tillgate_sync_feed_age_seconds [01]\n/);
    expect(metrics).toContain('tillgate_sync_chain_broken 0');

    await handle.stop();
    sync = null;
    expect(await registry.metrics()).not.toContain('tillgate_sync_');
  });

  it('gathers for 100 ms after a notify(): notifications meanwhile add no pass, and the entries go up in one batch', async () => {
    const c = await f.customer(10_000);
    f.offline(c, 1_000);
    const handle = startSync(f.syncOptions());
    sync = handle;
    await waitFor(() => handle.status().settled === 1, 2_000, 'the first pass');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the first pass looks once more, finds nothing, ends
    const batches = () => (f.db.prepare('SELECT count(*) AS n FROM sync_batches').get() as { n: number }).n;
    const before = batches();
    handle.notify();
    for (let i = 0; i < 4; i++) {
      f.offline(c, 100 + i);
      handle.notify();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handle.status().pending).toBe(4);
    await waitFor(() => handle.status().settled === 5, 2_000, 'the gathered pass');
    expect(batches() - before).toBe(1); // the fixture's batches hold 4 entries
  });

  it('runs nothing in the background when disabled, but uploadNow() still uploads', async () => {
    const c = await f.customer(10_000);
    f.offline(c, 1_000);
    const handle = startSync(f.syncOptions({ config: { ...f.config, enabled: false } }));
    sync = handle;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(handle.status()).toMatchObject({ pending: 1, feed: { refreshedAt: null } });
    expect(await handle.uploadNow()).toMatchObject({ ok: true, entries: 1, settled: 1, pending: 0 });
  });

  it('holds the uploader lease from pass to pass, renews it only when its slack runs short, and gives it back at stop', async () => {
    // leaseTtlMs 1,500 with callTimeoutMs 1,000: renewed once less than 1,250 ms are left, i.e. every ~250 ms.
    const handle = startSync(
      f.syncOptions({ config: { ...f.config, idleIntervalMs: 20, leaseTtlMs: 1_500 } }),
    );
    sync = handle;
    const lease = f.db.prepare<[string], { holder: string; expires_at: number }>(
      'SELECT holder, expires_at FROM sync_leases WHERE name = ?',
    );
    await waitFor(() => lease.get(UPLOADER_LEASE) !== undefined, 2_000, 'the first pass');
    const holder = lease.get(UPLOADER_LEASE)!.holder;
    const expiries = new Set<number>();
    const startedAt = Date.now();
    while (Date.now() - startedAt < 1_000) {
      // Between passes too (one every 20 ms): the lease is never given back while the loop runs, nor let run out.
      const row = lease.get(UPLOADER_LEASE);
      expect(row?.holder).toBe(holder);
      expect(row!.expires_at).toBeGreaterThan(Date.now());
      expiries.add(row!.expires_at);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // ~50 passes, ~4 renewals (each a commit that waits for the disk; before, a take and a release every pass).
    expect(expiries.size).toBeGreaterThanOrEqual(2);
    expect(expiries.size).toBeLessThanOrEqual(7);
    await handle.stop();
    sync = null;
    expect(lease.get(UPLOADER_LEASE)).toBeUndefined();
  });
});
