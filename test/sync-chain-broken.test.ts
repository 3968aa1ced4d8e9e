// A ledger whose chain the wallet refuses (a row changed after the fact, or a gap): the wallet applies nothing of
// the batch, and the gateway side stops uploading and says so loudly — status, an error log line, the metric,
// and `tillgate sync` exiting 1 — while reversals still go out.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturedIo } from '../gateway/cli/test-io.js';
import { entryHash, type UnhashedEntry } from '../gateway/ledger/chain.js';
import { type SyncHandle, startSync } from '../sync/index.js';
import { runSyncCommand } from '../sync/sync-command.js';
import { type Json, type SyncFixture, startSyncFixture, waitFor } from './support/sync-fixture.js';

let f: SyncFixture;
let sync: SyncHandle | null = null;

beforeEach(async () => {
  f = await startSyncFixture();
});

afterEach(async () => {
  await sync?.stop();
  await f.close();
});

function start(): SyncHandle {
  sync = startSync(f.syncOptions());
  return sync;
}

/** What an attacker or a bad disk would do: change an entry after it was written, past the append-only trigger. */
function tamper(seq: number, amount: number): void {
  f.db.exec('DROP TRIGGER ledger_no_update');
  f.db.prepare('UPDATE ledger SET amount = ? WHERE seq = ?').run(amount, seq);
}

function sends(): number {
  return (f.db.prepare('SELECT sum(sends) AS n FROM sync_batches').get() as Json).n;
}

describe('a broken chain', () => {
  it('is refused by the wallet and reported loudly; uploads stop, reversals go on', async () => {
    const c = await f.customer(100_000);
    for (let i = 0; i < 3; i++) f.offline(c, 1_000);
    const handle = start();
    await waitFor(() => handle.status().settled === 3, 5_000, 'the first entries to settle');
    const approved = await f.online(c, 2_000);
    f.offline(c, 1_000);
    tamper(approved.seq, 1);

    await waitFor(() => handle.status().chainBroken !== undefined, 5_000, 'the refusal');
    expect(handle.status().chainBroken).toMatchObject({ seq: approved.seq, problem: 'hash_mismatch' });
    const errors = f.logs.map((line) => JSON.parse(line)).filter((line: Json) => line.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ seq: approved.seq, problem: 'hash_mismatch' });
    expect(errors[0].msg).toContain('chain_broken');
    expect(await handle.registry.metrics()).toContain('tillgate_sync_chain_broken 1');
    expect((await f.settledAtWallet()).map((e: Json) => e.seq)).toEqual([1, 2, 3]);

    const before = sends();
    f.enqueueCall({ kind: 'reversal', authorizationId: approved.authorizationId });
    handle.notify();
    await waitFor(
      () => handle.status().pendingReversals === 0,
      5_000,
      'the reversal despite the broken chain',
    );
    expect(sends()).toBe(before);
    expect(await f.tw.balance(c.accountId)).toBe(100_000 - 3_000);

    const again = await handle.uploadNow();
    expect(again).toMatchObject({ ok: false, chainBroken: { seq: approved.seq, problem: 'hash_mismatch' } });
    await handle.stop();
    sync = null;
    const io = capturedIo({ cwd: f.dir });
    expect(await runSyncCommand(['--config', f.writeConfigFile(), '--wait-sec', '1'], io)).toBe(1);
    expect(io.out).toContain(
      `CHAIN BROKEN: the wallet refuses this ledger at seq ${approved.seq} (hash_mismatch)`,
    );
    expect(io.err).toContain('chain_broken');
  });

  it('names a gap in the sequence', async () => {
    const c = await f.customer(100_000);
    const first = f.offline(c, 1_000);
    const skipped: UnhashedEntry = { ...first, seq: 3, entryId: 'entry-after-a-gap', prevHash: first.hash };
    f.db
      .prepare(
        `INSERT INTO ledger (seq, entry_id, type, mode, payment_id, authorization_id, amount, currency, account_id,
           device_id, counter, lane_id, register_id, occurred_at, prev_hash, hash)
         VALUES (@seq, @entryId, @type, @mode, @paymentId, @authorizationId, @amount, @currency, @accountId,
           @deviceId, @counter, @laneId, @registerId, @occurredAt, @prevHash, @hash)`,
      )
      .run({ ...skipped, hash: entryHash(skipped) });
    f.db.prepare("INSERT INTO outbox (kind, ledger_seq, created_at) VALUES ('ledger_entry', 3, 0)").run();
    const summary = await start().uploadNow();
    expect(summary.chainBroken).toMatchObject({ seq: 3, problem: 'seq_gap' });
    expect(await f.settledAtWallet()).toEqual([]);
  });
});
