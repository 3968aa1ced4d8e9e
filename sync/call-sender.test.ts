// Reversals and refunds from the outbox against the sandbox wallet: confirmed, refused, retried on their own
// backoff, a refund's outcome handed over before its row is marked, and refunds waiting for their upload.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Json, type SyncFixture, startSyncFixture } from '../test/support/sync-fixture.js';
import { CallSender, type RefundOutcome, type RefundSettled } from './call-sender.js';
import { LedgerUploader } from './uploader.js';

let f: SyncFixture;
let clock: number;
let settled: [string, RefundOutcome][];

beforeEach(async () => {
  f = await startSyncFixture();
  clock = 1_000_000;
  settled = [];
});

afterEach(async () => {
  await f.close();
});

const recordRefund: RefundSettled = (refundId, outcome) => {
  settled.push([refundId, outcome]);
};

function sender(onRefundSettled: RefundSettled | null = recordRefund): CallSender {
  return new CallSender({
    db: f.db,
    wallet: f.wallet,
    logger: f.logger,
    now: () => clock,
    random: () => 0.5,
    backoff: { initialDelayMs: 100, maxDelayMs: 1_000 },
    callTimeoutMs: 1_000,
    callsPerPassMax: 10,
    onRefundSettled: onRefundSettled ?? undefined,
  });
}

const send = (s: CallSender, deferRefunds = true) => s.sendDue(new AbortController().signal, deferRefunds);

/** An online approval of `paid` and refund rows against it; returns the customer's account. */
async function refundsOf(paid: number, refunds: [refundId: string, amount: number][]): Promise<string> {
  const c = await f.customer(10_000);
  const approved = await f.online(c, paid);
  for (const [refundId, amount] of refunds) {
    f.enqueueCall({ kind: 'refund', authorizationId: approved.authorizationId, refundId, amount });
  }
  return c.accountId;
}

function rows(): Json[] {
  return f.db
    .prepare(
      "SELECT kind, status, result_reason, attempts, next_attempt_at, last_error FROM outbox WHERE kind <> 'ledger_entry' ORDER BY id",
    )
    .all();
}

describe('CallSender', () => {
  it('sends reversals until confirmed, for known and unknown authorizations', async () => {
    const c = await f.customer(10_000);
    const approved = await f.online(c, 1_000);
    expect(await f.tw.balance(c.accountId)).toBe(9_000);
    f.enqueueCall({ kind: 'reversal', authorizationId: approved.authorizationId });
    f.enqueueCall({ kind: 'reversal', authorizationId: 'never-sent-1' });
    expect(await send(sender())).toEqual({ done: 2, rejected: 0, failed: 0, deferred: 0 });
    expect(rows().map((r) => r.status)).toEqual(['done', 'done']);
    expect(await f.tw.balance(c.accountId)).toBe(10_000);
    expect((await f.tw.store('GET', '/v1/authorizations/never-sent-1')).body.status).toBe('declined');
    expect(await send(sender())).toEqual({ done: 0, rejected: 0, failed: 0, deferred: 0 });
  });

  it('hands each refund outcome over, then marks the row done or rejected with the reason', async () => {
    const accountId = await refundsOf(2_000, [
      ['refund-1', 500],
      ['refund-2', 5_000],
    ]);
    expect(await send(sender())).toMatchObject({ done: 1, rejected: 1 });
    expect(settled).toEqual([
      ['refund-1', { ok: true }],
      ['refund-2', { ok: false, reason: 'refund_exceeds_payment' }],
    ]);
    expect(rows().map((r) => [r.status, r.result_reason])).toEqual([
      ['done', null],
      ['rejected', 'refund_exceeds_payment'],
    ]);
    expect(await f.tw.balance(accountId)).toBe(8_500);
  });

  it('calls the refund callback again when it failed, and the wallet refunds once', async () => {
    const accountId = await refundsOf(2_000, [['refund-x', 700]]);
    let calls = 0;
    const flaky: RefundSettled = (refundId, outcome) => {
      calls += 1;
      if (calls === 1) throw new Error('payments database busy');
      recordRefund(refundId, outcome);
    };
    const s = sender(flaky);
    expect(await send(s)).toMatchObject({ failed: 1 });
    expect(rows()[0]).toMatchObject({ status: 'pending', attempts: 1, last_error: 'payments database busy' });
    expect(rows()[0].next_attempt_at).toBeGreaterThan(clock);
    expect(await send(s)).toMatchObject({ done: 0, failed: 0 });
    clock += 1_000;
    expect(await send(s)).toMatchObject({ done: 1 });
    expect(settled).toEqual([['refund-x', { ok: true }]]);
    expect(await f.tw.balance(accountId)).toBe(8_700);
  });

  it('keeps a refund back while its authorization is not uploaded yet', async () => {
    const c = await f.customer(10_000);
    const offline = f.offline(c, 1_000);
    f.enqueueCall({
      kind: 'refund',
      authorizationId: offline.authorizationId,
      refundId: 'refund-off',
      amount: 400,
    });
    expect(await send(sender())).toMatchObject({ deferred: 1, done: 0 });
    expect(f.tw.wallet.db.prepare('SELECT count(*) AS n FROM refunds').get()).toEqual({ n: 0 });
    const uploader = new LedgerUploader({ ...f, storeId: f.tw.storeId, now: () => clock });
    expect((await uploader.step(new AbortController().signal)).kind).toBe('uploaded');
    clock += 1_000;
    expect(await send(sender())).toMatchObject({ done: 1 });
    expect(await f.tw.balance(c.accountId)).toBe(9_400);
  });

  it('backs off a call the wallet failed, and stops the pass there', async () => {
    f.enqueueCall({ kind: 'reversal', authorizationId: 'r-1' });
    f.enqueueCall({ kind: 'reversal', authorizationId: 'r-2' });
    await f.tw.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', status: 503, count: 1 });
    expect(await send(sender())).toEqual({ done: 0, rejected: 0, failed: 1, deferred: 0 });
    const [first, second] = rows();
    expect(first).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: 'wallet answered 503 injected_fault',
    });
    expect(first.next_attempt_at).toBeGreaterThanOrEqual(clock + 50);
    expect(second).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await send(sender())).toMatchObject({ done: 1 });
    clock += 1_000;
    expect(await send(sender())).toMatchObject({ done: 1 });
    expect(rows().map((r) => r.status)).toEqual(['done', 'done']);
  });

  it('leaves refunds alone when it cannot hand their outcome over', async () => {
    await refundsOf(2_000, [['refund-cli', 100]]);
    expect(await send(sender(null))).toEqual({ done: 0, rejected: 0, failed: 0, deferred: 0 });
    expect(rows()[0]).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
