// The register API's refusals (CONTRACT §2): bad keys, bad bodies naming the field, oversize bodies,
// idempotency conflicts, other lanes' payments, busy lanes; and the captured logs never hold a secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxPhone } from '../wallet/sandbox-phone.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

let stack: Stack;
let phone: SandboxPhone;
const codesShown: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  phone = await stack.phone(await stack.account(50_000));
});

afterAll(async () => {
  await stack?.close();
});

function nextCode(): string {
  const code = phone.nextCode(nowSec());
  codesShown.push(code);
  return code;
}

const order = { amount: 500, currency: 'JPY', orderRef: 'o-1' };

describe('authentication', () => {
  it('401 without a key, with a wrong key, and with a malformed header — before the body is read', async () => {
    for (const key of [null, 'rk_wrong', `${stack.registers[0]!.key}x`]) {
      const reply = await stack.api(0, 'POST', '/v1/payments', { body: order, key });
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe('unauthorized');
    }
    const garbage = await stack.api(0, 'POST', '/v1/payments', { rawBody: '{not json', key: 'nope' });
    expect(garbage.status).toBe(401);
    const basic = await stack.api(0, 'GET', '/v1/status', {
      key: null,
      headers: { authorization: 'Basic abc' },
    });
    expect(basic.status).toBe(401);
  });

  it('health, readiness and metrics need no key', async () => {
    expect((await stack.api(0, 'GET', '/healthz', { key: null })).status).toBe(200);
    expect((await stack.api(0, 'GET', '/readyz', { key: null })).body).toEqual({ ready: true });
    const metrics = await fetch(`${stack.gateway.url}/metrics`);
    expect(await metrics.text()).toContain('tillgate_payments_total');
  });
});

describe('bodies', () => {
  const cases: [string, unknown, string][] = [
    ['negative amount', { ...order, amount: -1 }, 'amount'],
    ['zero amount', { ...order, amount: 0 }, 'amount'],
    ['fractional amount', { ...order, amount: 1.5 }, 'amount'],
    ['unsafe integer amount', { ...order, amount: 2 ** 53 }, 'amount'],
    ['amount as a string', { ...order, amount: '500' }, 'amount'],
    ['lower-case currency', { ...order, currency: 'jpy' }, 'currency'],
    ['another currency', { ...order, currency: 'USD' }, 'currency'],
    ['missing orderRef', { amount: 500, currency: 'JPY' }, 'orderRef'],
    ['unknown field', { ...order, tip: 100 }, 'tip'],
    [
      'basket line with a bad amount',
      { ...order, basket: [{ category: 'food', amount: -5 }] },
      'basket.0.amount',
    ],
    [
      'basket line with an unknown field',
      { ...order, basket: [{ category: 'food', amount: 5, sku: 'x' }] },
      'sku',
    ],
  ];
  for (const [name, body, field] of cases) {
    it(`400 for ${name}, naming ${field}`, async () => {
      const reply = await stack.api(0, 'POST', '/v1/payments', { body });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ code: 'invalid_request', field });
      expect(reply.body.error.message).toContain(field.split('.')[0]);
    });
  }

  it('400 for a body that is not JSON, and for a JSON array', async () => {
    expect((await stack.api(0, 'POST', '/v1/payments', { rawBody: '{"amount": 5' })).status).toBe(400);
    expect((await stack.api(0, 'POST', '/v1/payments', { rawBody: '[1,2]' })).status).toBe(400);
  });

  it('400 for a bad waitMs', async () => {
    const created = await stack.api(0, 'POST', '/v1/payments', { body: order });
    const bad = await stack.api(0, 'GET', `/v1/payments/${created.body.id}?waitMs=99999999`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('waitMs');
    await stack.api(0, 'POST', `/v1/payments/${created.body.id}/cancel`);
  });

  it('413 for an oversize body', async () => {
    const reply = await stack.api(0, 'POST', '/v1/payments', {
      body: { ...order, orderRef: 'x'.repeat(100_000) },
    });
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('payment_too_large');
  });
});

describe('idempotency', () => {
  it('422 for the same key with another body; keys are per register', async () => {
    const headers = { 'idempotency-key': 'k-422' };
    const first = await stack.api(0, 'POST', '/v1/payments', { body: order, headers });
    expect(first.status).toBe(201);
    const other = await stack.api(0, 'POST', '/v1/payments', { body: { ...order, amount: 501 }, headers });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_conflict');
    // Register 2 using the same key starts its own payment on its own lane, never sees register 1's.
    const elsewhere = await stack.api(1, 'POST', '/v1/payments', { body: order, headers });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.id).not.toBe(first.body.id);
    expect(elsewhere.body.laneId).toBe('lane-2');
    await stack.api(0, 'POST', `/v1/payments/${first.body.id}/cancel`);
    await stack.api(1, 'POST', `/v1/payments/${elsewhere.body.id}/cancel`);
  });

  it('a refused request is replayed as refused (409 lane busy stays 409 under its key)', async () => {
    const waiting = await stack.api(0, 'POST', '/v1/payments', { body: order });
    const headers = { 'idempotency-key': 'k-busy' };
    const busy = await stack.api(0, 'POST', '/v1/payments', { body: { ...order, orderRef: 'o-2' }, headers });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('lane_busy');
    expect(
      (await stack.api(0, 'POST', '/v1/payments', { body: { ...order, orderRef: 'o-2' }, headers })).status,
    ).toBe(409);
    await stack.api(0, 'POST', `/v1/payments/${waiting.body.id}/cancel`);
  });
});

describe('lanes', () => {
  it("404 for another lane's payment: read, cancel and refund", async () => {
    const paid = await stack.api(0, 'POST', '/v1/payments', { body: { ...order, payCode: nextCode() } });
    expect(paid.body.state).toBe('approved');
    expect((await stack.api(1, 'GET', `/v1/payments/${paid.body.id}`)).status).toBe(404);
    expect((await stack.api(1, 'POST', `/v1/payments/${paid.body.id}/cancel`)).status).toBe(404);
    expect(
      (await stack.api(1, 'POST', `/v1/payments/${paid.body.id}/refunds`, { body: { amount: 1 } })).status,
    ).toBe(404);
    expect((await stack.api(0, 'GET', '/v1/payments/no-such-id')).status).toBe(404);
  });

  it('cancelling twice answers with the cancelled payment; one still authorizing cannot be cancelled', async () => {
    const created = await stack.api(0, 'POST', '/v1/payments', { body: order });
    expect((await stack.api(0, 'POST', `/v1/payments/${created.body.id}/cancel`)).body.state).toBe(
      'cancelled',
    );
    const again = await stack.api(0, 'POST', `/v1/payments/${created.body.id}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('cancelled');

    await stack.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', latencyMs: 400, count: 1 });
    const slow = await stack.api(0, 'POST', '/v1/payments', { body: order });
    await stack.scanner('lane-1').scan(nextCode());
    const during = await stack.api(0, 'POST', `/v1/payments/${slow.body.id}/cancel`);
    expect(during.status).toBe(409);
    expect(during.body.error.code).toBe('not_allowed');
    const decided = (await stack.api(0, 'GET', `/v1/payments/${slow.body.id}?waitMs=5000`)).body;
    expect(decided.state).toBe('approved');
  });

  it('long poll returns at the change', async () => {
    const created = await stack.api(0, 'POST', '/v1/payments', { body: order });
    const waiting = stack.api(0, 'GET', `/v1/payments/${created.body.id}?waitMs=10000`);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await stack.scanner('lane-1').scan(nextCode());
    const changed = (await waiting).body;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(['authorizing', 'approved']).toContain(changed.state);
  });

  it('/v1/status shows mode, wallet reachability and the lane scanners', async () => {
    const status = await stack.api(0, 'GET', '/v1/status');
    expect(status.body).toMatchObject({ mode: 'online', wallet: { reachable: true }, accepting: true });
    expect(status.body.scanners).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ laneId: 'lane-1', status: 'attached', transport: 'simulated' }),
      ]),
    );
  });
});

describe('log lines', () => {
  it('a payment made with its code has one line, at its decision, saying what an operator needs of it', async () => {
    const reply = await stack.api(0, 'POST', '/v1/payments', { body: { ...order, payCode: nextCode() } });
    expect(reply.body).toMatchObject({ state: 'approved', mode: 'online' });
    const lines = stack.logs.filter((line) => line.includes(reply.body.id));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      msg: 'payment decided',
      paymentId: reply.body.id,
      laneId: 'lane-1',
      amount: 500,
      state: 'approved',
      mode: 'online',
    });
  });

  it('a payment waiting for a scan has a line when it is opened, and one when it is decided', async () => {
    const created = await stack.api(0, 'POST', '/v1/payments', { body: order });
    await stack.scanner('lane-1').scan(nextCode());
    const decided = (await stack.api(0, 'GET', `/v1/payments/${created.body.id}?waitMs=5000`)).body;
    expect(decided.state).toBe('approved');
    const lines = stack.logs.filter((line) => line.includes(created.body.id)).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.msg)).toEqual(['payment created', 'payment decided']);
  });
});

describe('secrets', () => {
  it('the captured logs hold no register key, store key, admin key or pay code', async () => {
    await stack.api(0, 'POST', '/v1/payments', {
      body: { ...order, payCode: 'PC1:garbage-that-is-not-a-code' },
    });
    const all = [...stack.logs, ...stack.walletLogs].join('');
    expect(stack.logs.length).toBeGreaterThan(10);
    for (const register of stack.registers) expect(all).not.toContain(register.key);
    expect(all).not.toContain(stack.storeKey);
    expect(all).not.toContain(stack.wallet.adminKey);
    for (const code of codesShown) {
      expect(all).not.toContain(code);
      expect(all).not.toContain(code.slice(4, 60));
    }
    expect(all).not.toContain('garbage-that-is-not-a-code');
  });
});
