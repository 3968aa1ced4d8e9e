// End to end on loopback: the sandbox wallet and the gateway as separate HTTP servers with their own SQLite files.
// A customer's enrolled phone pays by a lane scan and by a payCode the register sends; faults at the wallet show
// that an approval is charged once, a replayed code is approved once, and a hung wallet still gets a final answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxPhone } from '../wallet/sandbox-phone.js';
import { until } from './support/chaos.js';
import { openRegisterEvents } from './support/register-events.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

let stack: Stack;
let accountId: string;
let phone: SandboxPhone;

beforeAll(async () => {
  // One customer pays for every test within seconds: the velocity rule (docs/offline.md) would rightly stop them.
  stack = await startStack({ config: { offline: { velocity: { maxPayments: 1_000 } } } });
  accountId = await stack.account(100_000);
  phone = await stack.phone(accountId);
});

afterAll(async () => {
  await stack?.close();
});

async function payWithCode(
  register: number,
  amount: number,
  code: string,
  headers: Record<string, string> = {},
) {
  return stack.api(register, 'POST', '/v1/payments', {
    body: { amount, currency: 'JPY', orderRef: `order-${amount}-${Math.random()}`, payCode: code },
    headers,
  });
}

describe('a paid checkout', () => {
  it('pays by a scan on the lane: approved, charged once, ledger chain valid', async () => {
    const before = await stack.balance(accountId);
    const created = await stack.api(0, 'POST', '/v1/payments', {
      body: { amount: 1200, currency: 'JPY', orderRef: 'scan-1' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: 'awaiting_scan',
      amount: 1200,
      laneId: 'lane-1',
      registerId: 'register-1',
    });

    expect(await stack.scanner('lane-1').scan(phone.nextCode(nowSec()))).toBe(true);
    let payment = (await stack.api(0, 'GET', `/v1/payments/${created.body.id}?waitMs=5000`)).body;
    if (payment.state === 'authorizing') {
      payment = (await stack.api(0, 'GET', `/v1/payments/${created.body.id}?waitMs=5000`)).body;
    }
    expect(payment).toMatchObject({
      state: 'approved',
      mode: 'online',
      decision: { approved: true },
      accountId,
    });
    expect(await stack.balance(accountId)).toBe(before - 1200);
    const entries = stack.gateway.ledger.forPayment(created.body.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ type: 'authorization', mode: 'online', amount: 1200, accountId });
    expect(stack.gateway.ledger.verify().ok).toBe(true);
  });

  it('pays by payCode in the request: the answer is the decision', async () => {
    const before = await stack.balance(accountId);
    const paid = await payWithCode(1, 800, phone.nextCode(nowSec()));
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ state: 'approved', mode: 'online', laneId: 'lane-2' });
    expect(paid.body.decision.authorizationId).toMatch(/^a_/);
    expect(await stack.balance(accountId)).toBe(before - 800);
    // Each approval's entry went into the outbox in its decision's transaction (sync/ may have sent it already).
    const [entry] = stack.gateway.ledger.forPayment(paid.body.id);
    const outbox = stack.gateway.db
      .prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'ledger_entry' AND ledger_seq = ?")
      .get(entry!.seq) as { n: number };
    expect(outbox.n).toBe(1);
  });

  it('a numeric code is resolved by the wallet online', async () => {
    const before = await stack.balance(accountId);
    const { body } = await stack.admin('POST', '/v1/sandbox/numeric-codes', { accountId });
    const paid = await payWithCode(0, 300, body.code);
    expect(paid.body).toMatchObject({ state: 'approved', mode: 'online' });
    expect(await stack.balance(accountId)).toBe(before - 300);
  });

  it('a scan with no payment waiting is reported and dropped, never charged later', async () => {
    const before = await stack.balance(accountId);
    const events = await openEvents(0);
    expect(await stack.scanner('lane-1').scan(phone.nextCode(nowSec()))).toBe(true);
    const scan = await events.next('scan');
    expect(scan).toMatchObject({ laneId: 'lane-1', outcome: 'dropped' });
    expect(JSON.stringify(scan)).not.toContain('PC1:');
    events.close();
    const created = await stack.api(0, 'POST', '/v1/payments', {
      body: { amount: 100, currency: 'JPY', orderRef: 'late' },
    });
    expect(created.body.state).toBe('awaiting_scan');
    expect(await stack.balance(accountId)).toBe(before);
    expect((await stack.api(0, 'POST', `/v1/payments/${created.body.id}/cancel`)).body.state).toBe(
      'cancelled',
    );
  });
});

describe('exactly once under faults', () => {
  it('a response dropped after the wallet charged: queried under the same id, charged once', async () => {
    const before = await stack.balance(accountId);
    await stack.admin('POST', '/v1/sandbox/faults', {
      path: '/v1/authorizations',
      reset: true,
      phase: 'after',
      count: 1,
    });
    const paid = await payWithCode(0, 500, phone.nextCode(nowSec()));
    expect(paid.body).toMatchObject({ state: 'approved', mode: 'online' });
    expect(await stack.balance(accountId)).toBe(before - 500);
  });

  it('a register retrying after its own response was lost gets the first payment (Idempotency-Key)', async () => {
    const before = await stack.balance(accountId);
    const code = phone.nextCode(nowSec());
    const headers = { 'idempotency-key': 'order-77-try' };
    const body = { amount: 700, currency: 'JPY', orderRef: 'order-77', payCode: code };
    const first = await stack.api(0, 'POST', '/v1/payments', { body, headers });
    const again = await stack.api(0, 'POST', '/v1/payments', { body, headers });
    expect(first.body.state).toBe('approved');
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await stack.balance(accountId)).toBe(before - 700);
  });

  it('a code replayed at another lane is approved once', async () => {
    const before = await stack.balance(accountId);
    const code = phone.nextCode(nowSec());
    const first = await payWithCode(0, 400, code);
    const replay = await payWithCode(1, 400, code);
    expect(first.body.state).toBe('approved');
    expect(replay.body).toMatchObject({
      state: 'declined',
      decision: { approved: false, reason: 'code_replayed' },
    });
    expect(await stack.balance(accountId)).toBe(before - 400);
  });

  it('the same code at both lanes at the same moment: one approval', async () => {
    const before = await stack.balance(accountId);
    const code = phone.nextCode(nowSec());
    const results = await Promise.all([payWithCode(0, 250, code), payWithCode(1, 250, code)]);
    const states = results.map((r) => r.body.state).sort();
    expect(states).toEqual(['approved', 'declined']);
    expect(await stack.balance(accountId)).toBe(before - 250);
  });

  it('a hung wallet: the register gets a final answer within the deadline, and a reversal is queued', async () => {
    // A numeric code is never approved offline (CONTRACT §1.2); PC1 codes under a hung wallet: offline-unknown.test.ts.
    const before = await stack.balance(accountId);
    const { body: numeric } = await stack.admin('POST', '/v1/sandbox/numeric-codes', { accountId });
    await stack.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', hang: true });
    const started = performance.now();
    const paid = await payWithCode(0, 600, numeric.code);
    const elapsedMs = performance.now() - started;
    await stack.admin('DELETE', '/v1/sandbox/faults');
    const deadline = stack.gateway.config.wallet.timeoutMs;
    expect(elapsedMs).toBeLessThan(deadline + 1_000);
    expect(paid.body).toMatchObject({
      state: 'declined',
      decision: { approved: false, reason: 'online_required' },
    });
    const reversal = stack.gateway.db
      .prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'reversal' AND authorization_id = ?")
      .get(
        paid.body.decision.authorizationId ?? stack.gateway.service.row(paid.body.id)!.authorization_id,
      ) as { n: number };
    expect(reversal.n).toBe(1);
    const entries = stack.gateway.ledger.forPayment(paid.body.id);
    expect(entries.map((e) => e.type)).toEqual(['reversal']);
    expect(await stack.balance(accountId)).toBe(before);
  });
});

describe('after an approval', () => {
  it('cancel voids it: a void entry and a reversal go upstream, and the customer has the money back', async () => {
    const before = await stack.balance(accountId);
    const paid = await payWithCode(0, 900, phone.nextCode(nowSec()));
    const voided = await stack.api(0, 'POST', `/v1/payments/${paid.body.id}/cancel`);
    expect(voided.body.state).toBe('voided');
    expect(stack.gateway.ledger.forPayment(paid.body.id).map((e) => e.type)).toEqual([
      'authorization',
      'void',
    ]);
    const again = await stack.api(0, 'POST', `/v1/payments/${paid.body.id}/cancel`);
    expect(again.body.state).toBe('voided');
    expect(stack.gateway.ledger.forPayment(paid.body.id)).toHaveLength(2);
    // sync/ sends the reversal in the background (within its 100 ms gather after the void).
    await until(async () => (await stack.balance(accountId)) === before, 5_000, 'the reversal at the wallet');
  });

  it('refunds online, partially, never beyond what was paid', async () => {
    const paid = await payWithCode(0, 1000, phone.nextCode(nowSec()));
    const before = await stack.balance(accountId);
    const part = await stack.api(0, 'POST', `/v1/payments/${paid.body.id}/refunds`, {
      body: { amount: 400 },
      headers: { 'idempotency-key': 'refund-1' },
    });
    expect(part.status).toBe(201);
    expect(part.body.payment).toMatchObject({ state: 'partially_refunded', refundedAmount: 400 });
    const replay = await stack.api(0, 'POST', `/v1/payments/${paid.body.id}/refunds`, {
      body: { amount: 400 },
      headers: { 'idempotency-key': 'refund-1' },
    });
    expect(replay.body).toEqual(part.body);
    const tooMuch = await stack.api(0, 'POST', `/v1/payments/${paid.body.id}/refunds`, {
      body: { amount: 601 },
    });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('refund_exceeds_payment');
    const rest = await stack.api(0, 'POST', `/v1/payments/${paid.body.id}/refunds`, {
      body: { amount: 600 },
    });
    expect(rest.body.payment.state).toBe('refunded');
    expect(await stack.balance(accountId)).toBe(before + 1000);
    expect(stack.gateway.ledger.forPayment(paid.body.id).map((e) => e.type)).toEqual([
      'authorization',
      'refund',
      'refund',
    ]);
  });
});

describe('restart', () => {
  it('keeps the device counters: a code used before the restart is still a replay', async () => {
    const code = phone.nextCode(nowSec());
    expect((await payWithCode(0, 100, code)).body.state).toBe('approved');
    await stack.restartGateway();
    const replay = await payWithCode(1, 100, code);
    expect(replay.body.decision.reason).toBe('code_replayed');
    expect(stack.gateway.ledger.verify().ok).toBe(true);
  });
});

const openEvents = (register: number) => openRegisterEvents(stack, register);
