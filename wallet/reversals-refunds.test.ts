// Reversals and refunds at the sandbox wallet: credited exactly once, never more than was paid.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxPhone } from './sandbox-phone.js';
import { authorizationBody, startTestWallet, TEST_NOW, type TestWallet } from './test-harness.js';

let tw: TestWallet;
let accountId: string;
let phone: SandboxPhone;

beforeEach(async () => {
  tw = await startTestWallet();
  accountId = await tw.account(10_000);
  phone = await tw.phone(accountId);
});

afterEach(async () => {
  await tw.close();
});

async function approved(amount: number): Promise<string> {
  const reply = await tw.store(
    'POST',
    '/v1/authorizations',
    authorizationBody(tw, phone.nextCode(TEST_NOW), amount),
  );
  expect(reply.body.status).toBe('approved');
  return reply.body.id as string;
}

describe('reversal', () => {
  it('credits an approval back once, however often it is repeated', async () => {
    const id = await approved(3_000);
    expect(await tw.balance(accountId)).toBe(7_000);
    const replies = await Promise.all(
      Array.from({ length: 5 }, () => tw.store('POST', `/v1/authorizations/${id}/reversal`, {})),
    );
    for (const reply of replies) expect(reply.body).toEqual({ id, status: 'reversed' });
    expect(await tw.store('POST', `/v1/authorizations/${id}/reversal`)).toMatchObject({ status: 200 });
    expect(await tw.balance(accountId)).toBe(10_000);
  });

  it('credits only what was not refunded yet', async () => {
    const id = await approved(3_000);
    await tw.store('POST', '/v1/refunds', { id: 'r-1', authorizationId: id, amount: 1_000 });
    await tw.store('POST', `/v1/authorizations/${id}/reversal`, {});
    expect(await tw.balance(accountId)).toBe(10_000);
  });

  it('refuses another store’s authorization', async () => {
    const id = await approved(3_000);
    const other = await tw.admin('POST', '/v1/sandbox/stores', { storeId: 'store-2' });
    const reply = await tw.call('POST', `/v1/authorizations/${id}/reversal`, {
      key: other.body.storeKey,
      body: {},
    });
    expect(reply.status).toBe(409);
    expect(await tw.balance(accountId)).toBe(7_000);
  });

  it('rejects a body with fields', async () => {
    const reply = await tw.store('POST', '/v1/authorizations/x/reversal', { amount: 1 });
    expect(reply.status).toBe(400);
    expect(reply.body.error.field).toBe('amount');
  });
});

describe('refunds', () => {
  it('refunds partially, exactly once by id, up to the authorized amount', async () => {
    const id = await approved(3_000);
    const first = await tw.store('POST', '/v1/refunds', { id: 'r-1', authorizationId: id, amount: 1_000 });
    expect(first.body).toEqual({ id: 'r-1', authorizationId: id, amount: 1_000, status: 'refunded' });
    expect(
      (await tw.store('POST', '/v1/refunds', { id: 'r-1', authorizationId: id, amount: 1_000 })).body,
    ).toEqual(first.body);
    expect(await tw.balance(accountId)).toBe(8_000);
    const over = await tw.store('POST', '/v1/refunds', { id: 'r-2', authorizationId: id, amount: 2_001 });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('refund_exceeds_payment');
    expect(
      (await tw.store('POST', '/v1/refunds', { id: 'r-2', authorizationId: id, amount: 2_000 })).status,
    ).toBe(200);
    expect(await tw.balance(accountId)).toBe(10_000);
    expect(
      (await tw.store('POST', '/v1/refunds', { id: 'r-3', authorizationId: id, amount: 1 })).body.error.code,
    ).toBe('refund_exceeds_payment');
  });

  it('refuses a refund id reused with other values', async () => {
    const id = await approved(3_000);
    await tw.store('POST', '/v1/refunds', { id: 'r-1', authorizationId: id, amount: 1_000 });
    const reused = await tw.store('POST', '/v1/refunds', { id: 'r-1', authorizationId: id, amount: 500 });
    expect(reused.status).toBe(409);
    expect(await tw.balance(accountId)).toBe(8_000);
  });

  it('refuses declined, reversed and unknown authorizations', async () => {
    const id = await approved(3_000);
    await tw.store('POST', `/v1/authorizations/${id}/reversal`, {});
    const afterReversal = await tw.store('POST', '/v1/refunds', {
      id: 'r-1',
      authorizationId: id,
      amount: 1,
    });
    expect(afterReversal.body.error.code).toBe('not_refundable');
    const declined = await tw.store(
      'POST',
      '/v1/authorizations',
      authorizationBody(tw, phone.nextCode(TEST_NOW), 99_999),
    );
    expect(declined.body.reason).toBe('insufficient_funds');
    const ofDecline = await tw.store('POST', '/v1/refunds', {
      id: 'r-2',
      authorizationId: declined.body.id,
      amount: 1,
    });
    expect(ofDecline.body.error.code).toBe('not_refundable');
    const unknown = await tw.store('POST', '/v1/refunds', { id: 'r-3', authorizationId: 'nope', amount: 1 });
    expect(unknown.status).toBe(404);
    expect(await tw.balance(accountId)).toBe(10_000);
  });

  it('validates amounts', async () => {
    for (const amount of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, '1']) {
      const reply = await tw.store('POST', '/v1/refunds', { id: 'r-1', authorizationId: 'a', amount });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe('amount');
    }
  });
});
