// Payments across the gateway's life: scan timeouts, graceful shutdown with a decision in flight, and recovery
// of payments a crash left `authorizing` (the crash state is written into the real SQLite file, as a kill leaves it).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../gateway/db/open.js';
import { databasePath } from '../gateway/gateway.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('scan timeout', () => {
  it('a payment nobody scans expires with scan_timeout, and a later scan pays nothing', async () => {
    stack = await startStack({ config: { payments: { scanTimeoutMs: 300 } } });
    const accountId = await stack.account(10_000);
    const phone = await stack.phone(accountId);
    const created = await stack.api(0, 'POST', '/v1/payments', {
      body: { amount: 100, currency: 'JPY', orderRef: 't' },
    });
    const expired = (await stack.api(0, 'GET', `/v1/payments/${created.body.id}?waitMs=3000`)).body;
    expect(expired).toMatchObject({
      state: 'expired',
      decision: { approved: false, reason: 'scan_timeout' },
    });
    await stack.scanner('lane-1').scan(phone.nextCode(nowSec()));
    await new Promise((r) => setTimeout(r, 100));
    expect(await stack.balance(accountId)).toBe(10_000);
  });
});

describe('graceful shutdown', () => {
  it('finishes a decision in flight before closing; a payment waiting for a scan is cancelled', async () => {
    stack = await startStack();
    const accountId = await stack.account(10_000);
    const phone = await stack.phone(accountId);
    await stack.admin('POST', '/v1/sandbox/faults', { path: '/v1/authorizations', latencyMs: 300, count: 1 });
    const paying = stack.api(0, 'POST', '/v1/payments', {
      body: { amount: 250, currency: 'JPY', orderRef: 'g', payCode: phone.nextCode(nowSec()) },
    });
    await new Promise((r) => setTimeout(r, 100));
    const waiting = await stack.api(1, 'POST', '/v1/payments', {
      body: { amount: 1, currency: 'JPY', orderRef: 'w' },
    });
    const closing = stack.gateway.close();
    const paid = await paying;
    await closing;
    expect(paid.body.state).toBe('approved');
    expect(await stack.balance(accountId)).toBe(9_750);
    const db = openDatabase(databasePath(stack.gateway.config));
    const states = db.prepare('SELECT id, state FROM payments').all() as { id: string; state: string }[];
    db.close();
    expect(states.find((p) => p.id === waiting.body.id)?.state).toBe('cancelled');
    expect(states.every((p) => p.state !== 'authorizing' && p.state !== 'awaiting_scan')).toBe(true);
    await stack.restartGateway();
  });
});

describe('recovery after a crash', () => {
  it('asks the wallet about payments left authorizing and settles them; never-sent ones are declined', async () => {
    stack = await startStack();
    const accountId = await stack.account(10_000);
    const phone = await stack.phone(accountId);
    const config = stack.gateway.config;
    // What the wallet saw before the crash: an approved authorization the gateway never recorded as decided.
    const sentId = `a_${randomUUID()}`;
    const code = phone.nextCode(nowSec());
    const approved = await fetch(`${stack.wallet.url}/v1/authorizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.storeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: sentId,
        storeId: config.storeId,
        laneId: 'lane-1',
        payCode: code,
        amount: 1500,
        currency: 'JPY',
        createdAt: nowSec(),
      }),
    });
    expect(((await approved.json()) as { status: string }).status).toBe('approved');
    await stack.gateway.close();

    const db = openDatabase(databasePath(config));
    const insert = db.prepare(
      `INSERT INTO payments (id, register_id, lane_id, state, amount, currency, order_ref, authorization_id,
         code_kind, created_at, authorize_deadline_at, updated_at)
       VALUES (?, 'register-1', 'lane-1', 'authorizing', ?, 'JPY', 'crash', ?, 'pc1', ?, ?, ?)`,
    );
    const t = Date.now();
    insert.run('sent-before-crash', 1500, sentId, t, t + 1000, t);
    insert.run('never-sent', 700, null, t, null, t);
    insert.run('sent-unknown', 300, `a_${randomUUID()}`, t, t + 1000, t);
    db.close();

    await stack.restartGateway();
    const service = stack.gateway.service;
    const settled = async (id: string) => {
      for (let i = 0; i < 50 && service.get(id)?.state === 'authorizing'; i++)
        await new Promise((r) => setTimeout(r, 50));
      return service.get(id)!;
    };
    expect(await settled('sent-before-crash')).toMatchObject({
      state: 'approved',
      mode: 'online',
      accountId,
    });
    expect(await settled('never-sent')).toMatchObject({
      state: 'declined',
      decision: { reason: 'online_required' },
    });
    // The wallet never saw this id: declined, with a reversal so a late arrival can never stand.
    expect(await settled('sent-unknown')).toMatchObject({
      state: 'declined',
      decision: { reason: 'online_required' },
    });
    expect(stack.gateway.ledger.forPayment('sent-unknown').map((e) => e.type)).toEqual(['reversal']);
    expect(stack.gateway.ledger.forPayment('sent-before-crash').map((e) => e.type)).toEqual([
      'authorization',
    ]);
    expect(await stack.balance(accountId)).toBe(8_500);
    expect(stack.gateway.ledger.verify().ok).toBe(true);
  });
});
