// The uploader under a faulty wallet: 500s, hangs and resets before and after the wallet commits, and answers cut
// short in transit. The background loop backs off and retries with the same batch ids; in the end every entry is
// settled exactly once, balances are debited once, reversals are confirmed, and no secret reached the logs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpWalletClient } from '../gateway/wallet-client/http-wallet-client.js';
import { type SyncHandle, startSync } from '../sync/index.js';
import { type Json, type SyncFixture, startSyncFixture, waitFor } from './support/sync-fixture.js';
import { startTruncatingProxy, type TruncatingProxy } from './support/sync-truncating-proxy.js';

let f: SyncFixture;
let proxy: TruncatingProxy;
let sync: SyncHandle | null = null;

beforeEach(async () => {
  f = await startSyncFixture({ batchEntriesMax: 3, callTimeoutMs: 400 });
  proxy = await startTruncatingProxy(f.tw.wallet.url, '/v1/ledger/batches', 2);
});

afterEach(async () => {
  await sync?.stop();
  await proxy.close();
  await f.close();
});

const FAULTS = [
  { status: 500, phase: 'before' },
  { status: 500, phase: 'after' },
  { hang: true, phase: 'before' },
  { hang: true, phase: 'after' },
  { reset: true, phase: 'before' },
  { reset: true, phase: 'after' },
];

describe('sync under wallet faults', () => {
  it('ends with every entry settled exactly once', async () => {
    const alice = await f.customer(100_000);
    const bob = await f.customer(100_000);
    const voidedOnline = await f.online(bob, 3_000);
    for (let i = 0; i < 6; i++) f.offline(i % 2 ? alice : bob, 500 + i);
    f.enqueueCall({ kind: 'reversal', authorizationId: voidedOnline.authorizationId });
    for (const fault of FAULTS) {
      await f.tw.admin('POST', '/v1/sandbox/faults', { path: '/v1/ledger/batches', count: 1, ...fault });
    }
    await f.tw.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', status: 503, count: 2 });

    const wallet = new HttpWalletClient({ url: proxy.url, storeKey: f.tw.storeKey });
    sync = startSync(f.syncOptions({ wallet }));
    const handle = sync;
    await waitFor(
      () => {
        const status = handle.status();
        return status.pending === 0 && status.pendingReversals === 0;
      },
      20_000,
      'the backlog to drain through the faults',
    );

    expect((await f.tw.admin('GET', '/v1/sandbox/faults')).body.faults).toEqual([]);
    expect(proxy.truncated).toBe(2);
    const settled = await f.settledAtWallet();
    expect(settled.map((e: Json) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(settled.every((e: Json) => e.status === 'settled')).toBe(true);
    const offlineOf = (n: number) =>
      Array.from({ length: 6 }, (_, i) => (i % 2 === n ? 500 + i : 0)).reduce((a, b) => a + b);
    expect(await f.tw.balance(alice.accountId)).toBe(100_000 - offlineOf(1));
    expect(await f.tw.balance(bob.accountId)).toBe(100_000 - offlineOf(0));
    expect(f.outbox().every((row) => row.status === 'done')).toBe(true);
    const resent = f.db.prepare('SELECT max(sends) AS most FROM sync_batches').get() as Json;
    expect(resent.most).toBeGreaterThan(1);
    const metrics = await handle.registry.metrics();
    expect(metrics).toMatch(/tillgate_sync_upload_failures_total \d+/);
    expect(metrics).not.toMatch(/tillgate_sync_upload_failures_total 0\n/);
    expect(metrics).toContain('tillgate_sync_outbox_depth{kind="ledger_entry"} 0');
    expect(f.logs.join('')).not.toContain(f.tw.storeKey);
  });
});
