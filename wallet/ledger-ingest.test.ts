// Ledger upload at the sandbox wallet: each entry applied once, the chain checked link by link,
// offline approvals settled or rejected, and nothing of a broken batch applied.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryHash, GENESIS_HASH, type LedgerEntry, type UnhashedEntry } from '../gateway/ledger/chain.js';
import type { SandboxPhone } from './sandbox-phone.js';
import { authorizationBody, type Json, startTestWallet, TEST_NOW, type TestWallet } from './test-harness.js';

type EntryFields = Pick<LedgerEntry, 'type' | 'mode' | 'authorizationId' | 'amount'> & Partial<UnhashedEntry>;

/** The gateway side of a chain: appends entries as gateway/ledger/ledger.ts does. */
class Chain {
  seq = 0;
  hash = GENESIS_HASH;

  next(fields: EntryFields): LedgerEntry {
    const unhashed: UnhashedEntry = {
      entryId: `entry-${this.seq + 1}-${fields.authorizationId}`,
      paymentId: `pay-${fields.authorizationId}`,
      currency: 'JPY',
      laneId: 'lane-1',
      registerId: 'reg-1',
      occurredAt: '2026-01-01T00:00:00.000Z',
      ...fields,
      seq: this.seq + 1,
      prevHash: this.hash,
    };
    const entry = { ...unhashed, hash: entryHash(unhashed) };
    this.seq = entry.seq;
    this.hash = entry.hash;
    return entry;
  }
}

let tw: TestWallet;
let accountId: string;
let phone: SandboxPhone;
let chain: Chain;
let batchNo = 0;

beforeEach(async () => {
  tw = await startTestWallet();
  accountId = await tw.account(10_000);
  phone = await tw.phone(accountId);
  chain = new Chain();
});

afterEach(async () => {
  await tw.close();
});

function upload(entries: LedgerEntry[], batchId = `batch-${++batchNo}`) {
  return tw.store('POST', '/v1/ledger/batches', { storeId: tw.storeId, batchId, entries });
}

async function settled(): Promise<Json[]> {
  return (await tw.admin('GET', `/v1/sandbox/stores/${tw.storeId}/settled`)).body.entries;
}

async function approveOnline(amount: number): Promise<string> {
  const reply = await tw.store(
    'POST',
    '/v1/authorizations',
    authorizationBody(tw, phone.nextCode(TEST_NOW), amount),
  );
  expect(reply.body.status).toBe('approved');
  return reply.body.id;
}

function offline(authorizationId: string, amount: number, counter = phone.lastCounter + 1): EntryFields {
  return {
    type: 'authorization',
    mode: 'offline',
    authorizationId,
    amount,
    accountId,
    deviceId: phone.deviceId,
    counter,
  };
}

describe('applying entries', () => {
  it('settles an online approval without a second debit; a repeated batch changes nothing', async () => {
    const id = await approveOnline(1_000);
    const entries = [
      chain.next({ type: 'authorization', mode: 'online', authorizationId: id, amount: 1_000 }),
    ];
    const first = await upload(entries, 'b-1');
    expect(first.body).toEqual({
      acceptedThroughSeq: 1,
      results: [{ entryId: entries[0]!.entryId, status: 'settled' }],
    });
    expect((await upload(entries, 'b-1')).body).toEqual(first.body);
    expect((await upload(entries, 'b-2')).body).toEqual(first.body);
    expect(await tw.balance(accountId)).toBe(9_000);
    expect(await settled()).toEqual([{ ...entries[0], status: 'settled' }]);
  });

  it('rejects an online entry the wallet never approved', async () => {
    const id = await approveOnline(1_000);
    const entries = [
      chain.next({ type: 'authorization', mode: 'online', authorizationId: 'never-seen', amount: 1_000 }),
      chain.next({ type: 'authorization', mode: 'online', authorizationId: id, amount: 999 }),
    ];
    const reply = await upload(entries);
    expect(reply.body.results.map((r: Json) => r.reason)).toEqual([
      'unknown_authorization',
      'unknown_authorization',
    ]);
    expect(reply.body.acceptedThroughSeq).toBe(2);
  });

  it('debits an offline approval once and answers a late online request with it', async () => {
    const entry = chain.next(offline('off-1', 2_500, 7));
    expect((await upload([entry])).body.results).toEqual([{ entryId: entry.entryId, status: 'settled' }]);
    expect(await tw.balance(accountId)).toBe(7_500);
    const late = await tw.store(
      'POST',
      '/v1/authorizations',
      authorizationBody(tw, phone.codeWithCounter(7, TEST_NOW), 2_500, 'off-1'),
    );
    expect(late.body).toEqual({ id: 'off-1', status: 'approved', accountId, deviceId: phone.deviceId });
    expect(await tw.balance(accountId)).toBe(7_500);
    expect((await tw.admin('GET', `/v1/sandbox/devices/${phone.deviceId}`)).body.highestCounter).toBe(7);
    expect(
      (
        await tw.store(
          'POST',
          '/v1/authorizations',
          authorizationBody(tw, phone.codeWithCounter(7, TEST_NOW), 1),
        )
      ).body.reason,
    ).toBe('code_replayed');
  });

  it('settles an offline entry whose id was already approved online, without a second debit', async () => {
    const id = await approveOnline(1_000);
    const reply = await upload([chain.next(offline(id, 1_000, phone.lastCounter))]);
    expect(reply.body.results[0].status).toBe('settled');
    expect(await tw.balance(accountId)).toBe(9_000);
  });

  it('rejects offline approvals it cannot honour, and still advances the chain', async () => {
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/freeze`);
    const frozen = chain.next(offline('off-frozen', 100, 1));
    const reply = await upload([frozen]);
    expect(reply.body).toEqual({
      acceptedThroughSeq: 1,
      results: [{ entryId: frozen.entryId, status: 'rejected', reason: 'account_frozen' }],
    });
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/unfreeze`);
    const tooMuch = chain.next(offline('off-big', 10_001, 2));
    const unknownDevice = chain.next({ ...offline('off-stranger', 100, 3), deviceId: '00112233aabbccdd' });
    const reused = chain.next(offline('off-ok', 100, 4));
    const sameCodeAgain = chain.next(offline('off-dup', 100, 4));
    const reasons = (await upload([tooMuch, unknownDevice, reused, sameCodeAgain])).body.results.map(
      (r: Json) => r.reason ?? r.status,
    );
    expect(reasons).toEqual(['insufficient_funds', 'wallet_declined', 'settled', 'code_replayed']);
    expect(await tw.balance(accountId)).toBe(9_900);
    const lateFrozen = await tw.store('GET', '/v1/authorizations/off-frozen');
    expect(lateFrozen.body).toMatchObject({ status: 'declined', reason: 'account_frozen' });
  });

  it('rejects an offline entry for a revoked device and for an id reversed earlier', async () => {
    await tw.store('POST', '/v1/authorizations/off-r/reversal', {});
    const reversedFirst = chain.next(offline('off-r', 100, 1));
    await tw.admin('POST', `/v1/sandbox/devices/${phone.deviceId}/revoke`);
    const revoked = chain.next(offline('off-x', 100, 2));
    const reasons = (await upload([reversedFirst, revoked])).body.results.map((r: Json) => r.reason);
    expect(reasons).toEqual(['reversed', 'device_revoked']);
    expect(await tw.balance(accountId)).toBe(10_000);
  });

  it('applies void and refund entries once, idempotent with the endpoints', async () => {
    const voided = await approveOnline(1_000);
    const refunded = await approveOnline(2_000);
    await tw.store('POST', `/v1/authorizations/${voided}/reversal`, {});
    const refundEntry = chain.next({
      type: 'refund',
      mode: 'online',
      authorizationId: refunded,
      amount: 500,
    });
    expect(
      (
        await tw.store('POST', '/v1/refunds', {
          id: refundEntry.entryId,
          authorizationId: refunded,
          amount: 500,
        })
      ).status,
    ).toBe(200);
    const entries = [
      chain.next({ type: 'authorization', mode: 'online', authorizationId: voided, amount: 1_000 }),
      chain.next({ type: 'void', mode: 'online', authorizationId: voided, amount: 1_000 }),
      chain.next({ type: 'authorization', mode: 'online', authorizationId: refunded, amount: 2_000 }),
    ];
    const all = [...entries, refundEntry];
    // refundEntry was made before the others: rebuild the chain in upload order.
    const ordered = new Chain();
    const rebuilt = all.map(({ seq: _s, prevHash: _p, hash: _h, ...fields }) => ordered.next(fields));
    const reply = await upload(rebuilt);
    expect(reply.body.results.map((r: Json) => r.status)).toEqual([
      'settled',
      'settled',
      'settled',
      'settled',
    ]);
    expect(await tw.balance(accountId)).toBe(10_000 - 2_000 + 500);
    const tooMuch = ordered.next({
      type: 'refund',
      mode: 'online',
      authorizationId: refunded,
      amount: 1_501,
    });
    expect((await upload([tooMuch])).body.results[0]).toMatchObject({
      status: 'rejected',
      reason: 'refund_exceeds_payment',
    });
  });
});

describe('chain checks', () => {
  async function assertNothingApplied(): Promise<void> {
    expect(await settled()).toEqual([]);
    expect(await tw.balance(accountId)).toBe(10_000);
  }

  it('refuses a tampered hash, a gap and a wrong prevHash, applying nothing', async () => {
    const a = chain.next(offline('off-a', 100, 1));
    const b = chain.next(offline('off-b', 100, 2));
    const c = chain.next(offline('off-c', 100, 3));
    const tampered = { ...b, amount: 1 };
    const cases: [LedgerEntry[], number, string][] = [
      [[a, tampered, c], 2, 'hash_mismatch'],
      [[a, c], 3, 'seq_gap'],
      [[b, c], 2, 'seq_gap'],
      [[a, { ...b, prevHash: c.hash }, c], 2, 'prev_hash_mismatch'],
    ];
    for (const [entries, seq, problem] of cases) {
      const reply = await upload(entries);
      expect(reply.status).toBe(409);
      expect(reply.body.error).toMatchObject({ code: 'chain_broken', seq, problem });
      await assertNothingApplied();
    }
    expect((await upload([a, b, c])).body.acceptedThroughSeq).toBe(3);
  });

  it('refuses an entry id used before, in an earlier batch or the same one, applying nothing', async () => {
    const a = chain.next(offline('off-a', 100, 1));
    await upload([a]);
    const fork = { seq: chain.seq, hash: chain.hash };
    const reused = chain.next({ ...offline('off-b', 100, 2), entryId: a.entryId });
    expect((await upload([reused])).body.error).toMatchObject({
      code: 'chain_broken',
      seq: 2,
      problem: 'duplicate_entry_id',
    });
    chain.seq = fork.seq;
    chain.hash = fork.hash;
    const b = chain.next(offline('off-b', 100, 2));
    const c = chain.next({ ...offline('off-c', 100, 3), entryId: b.entryId });
    expect((await upload([b, c])).body.error).toMatchObject({
      code: 'chain_broken',
      seq: 3,
      problem: 'duplicate_entry_id',
    });
    expect(await tw.balance(accountId)).toBe(9_900);
    expect((await settled()).map((e: Json) => e.seq)).toEqual([1]);
  });

  it('refuses a re-sent entry that differs from the one applied', async () => {
    const a = chain.next(offline('off-a', 100, 1));
    await upload([a]);
    const forged = { ...a, amount: 50 };
    forged.hash = entryHash(forged);
    const reply = await upload([forged]);
    expect(reply.body.error).toMatchObject({ code: 'chain_broken', seq: 1, problem: 'hash_mismatch' });
  });

  it('continues from the head across batches, and re-sent old entries get their results again', async () => {
    const a = chain.next(offline('off-a', 100, 1));
    const b = chain.next(offline('off-b', 99_999, 2));
    await upload([a, b]);
    const c = chain.next(offline('off-c', 100, 3));
    const reply = await upload([b, c]);
    expect(reply.body).toEqual({
      acceptedThroughSeq: 3,
      results: [
        { entryId: b.entryId, status: 'rejected', reason: 'insufficient_funds' },
        { entryId: c.entryId, status: 'settled' },
      ],
    });
    expect(await tw.balance(accountId)).toBe(9_800);
    expect((await settled()).map((e: Json) => e.seq)).toEqual([1, 2, 3]);
  });
});

describe('batch requests', () => {
  it('validates entries field by field and checks the store', async () => {
    const entry = chain.next(offline('off-a', 100, 1));
    const bad = await upload([{ ...entry, amount: -5 }]);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('entries.0.amount');
    const extra = await upload([{ ...entry, note: 'x' } as LedgerEntry]);
    expect(extra.body.error.field).toBe('entries.0.note');
    const other = await tw.store('POST', '/v1/ledger/batches', {
      storeId: 'store-2',
      batchId: 'b',
      entries: [],
    });
    expect(other.status).toBe(403);
  });

  it('accepts a batch of 1,000 entries, over the 64 kB limit of other bodies', async () => {
    const entries = Array.from({ length: 1_000 }, (_, i) => chain.next(offline(`off-${i}`, 1, i + 1)));
    const reply = await upload(entries);
    expect(reply.status).toBe(200);
    expect(reply.body.acceptedThroughSeq).toBe(1_000);
    expect(await tw.balance(accountId)).toBe(9_000);
  });
});
