// The ledger uploader against the sandbox wallet: bounded batches in seq order, each persisted before it is sent,
// rows marked settled or rejected with the wallet's reason, losses summed, and an answer that does not match refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalletCallError, type WalletClient } from '../gateway/wallet-client/wallet-client.js';
import { type Json, type SyncFixture, startSyncFixture, wrapWallet } from '../test/support/sync-fixture.js';
import { syncStatus } from './status.js';
import { batchIdFor, LedgerUploader } from './uploader.js';

let f: SyncFixture;

beforeEach(async () => {
  f = await startSyncFixture({ batchEntriesMax: 2 });
});

afterEach(async () => {
  await f.close();
});

function uploader(wallet: WalletClient = f.wallet): LedgerUploader {
  return new LedgerUploader({
    db: f.db,
    wallet,
    storeId: f.tw.storeId,
    config: f.config,
    logger: f.logger,
    now: Date.now,
  });
}

const KEEP_GOING = { mayContinue: () => true, onBatch: () => {} };

async function drain(u: LedgerUploader): Promise<string[]> {
  const kinds: string[] = [];
  for (;;) {
    const step = await u.step(new AbortController().signal);
    kinds.push(step.kind);
    if (step.kind !== 'uploaded') return kinds;
  }
}

describe('LedgerUploader', () => {
  it('uploads in bounded batches, marks each row from the answer and records the losses', async () => {
    const rich = await f.customer(100_000);
    const poor = await f.customer(500);
    const frozen = await f.customer(100_000);
    await f.tw.admin('POST', `/v1/sandbox/accounts/${frozen.accountId}/freeze`);
    const online = await f.online(rich, 1_000);
    f.offline(rich, 2_000);
    const short = f.offline(poor, 600);
    const cold = f.offline(frozen, 700);
    const voided = f.offline(frozen, 300);
    f.voidOf(voided);

    expect(await drain(uploader())).toEqual(['uploaded', 'uploaded', 'uploaded', 'idle']);

    expect(f.outbox().map((r) => [r.ledger_seq, r.status, r.result_reason])).toEqual([
      [1, 'done', null],
      [2, 'done', null],
      [3, 'rejected', 'insufficient_funds'],
      [4, 'rejected', 'account_frozen'],
      [5, 'rejected', 'account_frozen'],
      [6, 'done', null],
    ]);
    expect(await f.tw.balance(rich.accountId)).toBe(100_000 - online.amount - 2_000);
    const status = syncStatus(f.db);
    expect(status).toMatchObject({
      pending: 0,
      settled: 3,
      rejected: 3,
      lossCount: 2,
      oldestPendingAgeSec: null,
    });
    // The voided approval was rejected too, but the store handed nothing over: not a loss.
    expect(status.lossAmount).toBe(short.amount + cold.amount);
    expect(status.lastSuccessAt).not.toBeNull();
    const losses = f.logs.filter((line) => line.includes('recorded as a store loss'));
    expect(losses).toHaveLength(3);
  });

  it('persists each batch before sending it; the ids match what the wallet recorded', async () => {
    const c = await f.customer(100_000);
    for (let i = 0; i < 5; i++) f.offline(c, 100);
    await drain(uploader());
    const ours = f.db
      .prepare('SELECT batch_id, first_seq, last_seq, sends, done_at FROM sync_batches ORDER BY first_seq')
      .all() as Json[];
    expect(ours.map((b) => [b.first_seq, b.last_seq, b.sends])).toEqual([
      [1, 2, 1],
      [3, 4, 1],
      [5, 5, 1],
    ]);
    expect(ours.every((b) => b.done_at !== null)).toBe(true);
    const theirs = f.tw.wallet.db
      .prepare('SELECT batch_id FROM ledger_batches ORDER BY created_at, batch_id')
      .all() as Json[];
    expect(theirs.map((b) => b.batch_id).sort()).toEqual(ours.map((b) => b.batch_id).sort());
    expect(ours[0].batch_id).toBe(batchIdFor(f.ledger.after(0, 2)));
  });

  it('resends an open batch with the same id and entries, even when more entries arrived since', async () => {
    const c = await f.customer(100_000);
    f.offline(c, 100);
    const losing = wrapWallet(f.wallet, {
      uploadBatch: async (batch, signal) => {
        await f.wallet.uploadBatch(batch, signal);
        throw new Error('answer lost');
      },
    });
    await expect(uploader(losing).step(new AbortController().signal)).rejects.toThrow('answer lost');
    f.offline(c, 100);
    f.offline(c, 100);
    const sent: Json[] = [];
    const recording = wrapWallet(f.wallet, {
      uploadBatch: (batch, signal) => {
        sent.push({ batchId: batch.batchId, seqs: batch.entries.map((e) => e.seq) });
        return f.wallet.uploadBatch(batch, signal);
      },
    });
    await drain(uploader(recording));
    expect(sent).toEqual([
      { batchId: batchIdFor(f.ledger.after(0, 1)), seqs: [1] },
      { batchId: batchIdFor(f.ledger.after(1, 2)), seqs: [2, 3] },
    ]);
    expect((await f.settledAtWallet()).map((e: Json) => e.seq)).toEqual([1, 2, 3]);
  });

  it('does not mark rows from an answer that names other entries, and retries', async () => {
    const c = await f.customer(100_000);
    f.offline(c, 100);
    const lying = wrapWallet(f.wallet, {
      uploadBatch: async (batch, signal) => {
        const answer = await f.wallet.uploadBatch(batch, signal);
        return { ...answer, results: answer.results.map((r) => ({ ...r, entryId: 'someone-else' })) };
      },
    });
    const step = await uploader(lying).step(new AbortController().signal);
    expect(step).toEqual({ kind: 'failed', error: 'wallet result 0 names another entry' });
    expect(f.outbox()[0]).toMatchObject({ status: 'pending' });
    expect((f.db.prepare('SELECT attempts, last_error FROM outbox').get() as Json).attempts).toBe(1);
    expect(await drain(uploader())).toEqual(['uploaded', 'idle']);
    expect(f.outbox()[0]).toMatchObject({ status: 'done' });
  });

  it('keeps a batch the wallet refuses as such pending, and says loudly that uploads are stuck', async () => {
    f.db.transaction(() => {
      const entry = f.ledger.append({
        entryId: 'entry-long-lane',
        type: 'authorization',
        mode: 'online',
        paymentId: 'pay-1',
        authorizationId: 'auth-1',
        amount: 100,
        currency: 'JPY',
        laneId: 'l'.repeat(200),
        registerId: 'register-1',
        occurredAt: new Date().toISOString(),
      });
      f.db
        .prepare("INSERT INTO outbox (kind, ledger_seq, created_at) VALUES ('ledger_entry', ?, 0)")
        .run(entry.seq);
    })();
    const step = await uploader().step(new AbortController().signal);
    expect(step).toEqual({ kind: 'failed', error: 'wallet answered 400 invalid_request' });
    expect(f.outbox()[0]).toMatchObject({ status: 'pending' });
    const errors = f.logs.map((line) => JSON.parse(line)).filter((line: Json) => line.level >= 50);
    expect(errors.map((line: Json) => line.msg)).toEqual([
      'the wallet refuses this batch as such, uploads are stuck: wallet answered 400 invalid_request',
    ]);
  });

  it('drains with one batch in flight at a time, in order, and marks every answered batch before it returns', async () => {
    const c = await f.customer(100_000);
    for (let i = 0; i < 5; i++) f.offline(c, 100);
    let inFlight = 0;
    const sent: number[][] = [];
    const marked: string[][] = [];
    const watching = wrapWallet(f.wallet, {
      uploadBatch: async (batch, signal) => {
        inFlight += 1;
        expect(inFlight).toBe(1);
        sent.push(batch.entries.map((e) => e.seq));
        // What is marked while this batch is at the wallet: the batch before it, never this one.
        marked.push(f.outbox().map((r) => r.status));
        try {
          return await f.wallet.uploadBatch(batch, signal);
        } finally {
          inFlight -= 1;
        }
      },
    });
    const steps: number[] = [];
    const end = await uploader(watching).drain(new AbortController().signal, {
      mayContinue: () => true,
      onBatch: (step) => steps.push(step.lastSeq),
    });
    expect(end).toEqual({ kind: 'idle' });
    expect(sent).toEqual([[1, 2], [3, 4], [5]]);
    expect(steps).toEqual([2, 4, 5]);
    expect(f.outbox().every((r) => r.status === 'done')).toBe(true);
    expect(await f.settledAtWallet()).toHaveLength(5);
    // Marked a batch late at most: the first batch's rows are pending when the second leaves, done by the third.
    expect(marked[1]!.slice(0, 2)).toEqual(['pending', 'pending']);
    expect(marked[2]!.slice(0, 2)).toEqual(['done', 'done']);
  });

  it('ends a drain with a batch short of the bound: entries written meanwhile wait for the next pass', async () => {
    const c = await f.customer(100_000);
    for (let i = 0; i < 3; i++) f.offline(c, 100);
    const sent: number[][] = [];
    const busyStore = wrapWallet(f.wallet, {
      uploadBatch: (batch, signal) => {
        sent.push(batch.entries.map((e) => e.seq));
        // Payments decided while the batch is at the wallet, as at a store that keeps selling.
        if (sent.length === 2) for (let i = 0; i < 2; i++) f.offline(c, 100);
        return f.wallet.uploadBatch(batch, signal);
      },
    });
    const u = uploader(busyStore);
    expect(await u.drain(new AbortController().signal, KEEP_GOING)).toEqual({ kind: 'idle' });
    expect(sent).toEqual([[1, 2], [3]]);
    expect(f.outbox().map((r) => r.status)).toEqual(['done', 'done', 'done', 'pending', 'pending']);
    expect(await u.drain(new AbortController().signal, KEEP_GOING)).toEqual({ kind: 'idle' });
    expect(sent).toEqual([[1, 2], [3], [4, 5]]);
    expect(f.outbox().every((r) => r.status === 'done')).toBe(true);
  });

  it('after a failed send in a drain, the answered batches are marked and the failed one goes first again', async () => {
    const c = await f.customer(100_000);
    for (let i = 0; i < 6; i++) f.offline(c, 100);
    let sends = 0;
    const failingSecond = wrapWallet(f.wallet, {
      uploadBatch: async (batch, signal) => {
        sends += 1;
        if (sends === 2) throw new WalletCallError('timeout', 'wallet did not answer');
        return f.wallet.uploadBatch(batch, signal);
      },
    });
    const end = await uploader(failingSecond).drain(new AbortController().signal, KEEP_GOING);
    expect(end).toEqual({ kind: 'failed', error: 'wallet did not answer' });
    expect(f.outbox().map((r) => r.status)).toEqual([
      'done',
      'done',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    const sent: number[][] = [];
    const recording = wrapWallet(f.wallet, {
      uploadBatch: (batch, signal) => {
        sent.push(batch.entries.map((e) => e.seq));
        return f.wallet.uploadBatch(batch, signal);
      },
    });
    expect(await uploader(recording).drain(new AbortController().signal, KEEP_GOING)).toEqual({
      kind: 'idle',
    });
    expect(sent).toEqual([
      [3, 4],
      [5, 6],
    ]);
    expect(f.outbox().every((r) => r.status === 'done')).toBe(true);
    expect((await f.settledAtWallet()).map((e: Json) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
