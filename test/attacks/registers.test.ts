// Attacks on the register side, each a named test through the real stack: a register key used on another lane's
// payments, an Idempotency-Key taken from another register, register keys guessed by brute force (held off per
// source with 429, the honest register on its own address unaffected), and a flood of bad scans on one lane.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosCount, chaosSettings } from '../support/chaos.js';
import { nowSec, type Stack, startStack } from '../support/stack.js';
import { Tally } from './support.js';

const tally = new Tally('attacks/registers');
const settings = chaosSettings();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    config: {
      offline: { velocity: { maxPayments: 1_000, maxLanes: 10 } },
      http: { authFailures: { burst: 10, perMinute: 60 } },
    },
  });
});

afterAll(async () => {
  await stack?.close();
  tally.report();
});

const order = (ref: string) => ({ amount: 500, currency: 'JPY', orderRef: ref });

describe('a register key of another lane', () => {
  it("cannot read, cancel, refund or pay another lane's payment, nor name another lane", async () => {
    const phone = await stack.phone(await stack.account(10_000));
    const theirs = (await stack.api(1, 'POST', '/v1/payments', { body: order('lane-2-open') })).body;
    expect(theirs).toMatchObject({ laneId: 'lane-2', state: 'awaiting_scan' });
    const paid = (
      await stack.api(1, 'POST', '/v1/payments', {
        body: { ...order('lane-2-paid'), payCode: phone.nextCode(nowSec()) },
      })
    ).body;
    expect(paid.state).toBe('approved');
    for (const id of [theirs.id, paid.id]) {
      tally.tried(3);
      expect((await stack.api(0, 'GET', `/v1/payments/${id}`)).status).toBe(404);
      expect((await stack.api(0, 'POST', `/v1/payments/${id}/cancel`)).status).toBe(404);
      expect((await stack.api(0, 'POST', `/v1/payments/${id}/refunds`, { body: { amount: 1 } })).status).toBe(
        404,
      );
    }
    for (const field of [{ laneId: 'lane-2' }, { registerId: 'register-2' }]) {
      tally.tried();
      const named = await stack.api(0, 'POST', '/v1/payments', { body: { ...order('x'), ...field } });
      expect(named.status).toBe(400);
      expect(named.body.error.code).toBe('invalid_request');
    }
    // A scan on lane 1 does not pay lane 2's open payment.
    tally.tried();
    await stack.scanner('lane-1').scan(phone.nextCode(nowSec()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await stack.api(1, 'GET', `/v1/payments/${theirs.id}`)).body.state).toBe('awaiting_scan');
    expect((await stack.api(1, 'POST', `/v1/payments/${theirs.id}/cancel`)).body.state).toBe('cancelled');
    expect((await stack.api(1, 'GET', `/v1/payments/${paid.id}`)).body.state).toBe('approved');
    tally.held('register-key-of-another-lane');
  });
});

describe('stolen idempotency keys across registers', () => {
  it("another register's Idempotency-Key replays nothing of the first register's and conflicts with nothing", async () => {
    const phone = await stack.phone(await stack.account(10_000));
    const sameBody = { 'idempotency-key': 'order-4711' };
    const body = { ...order('order-4711'), payCode: phone.nextCode(nowSec()) };
    const first = await stack.api(0, 'POST', '/v1/payments', { body, headers: sameBody });
    expect(first.body).toMatchObject({ state: 'approved', laneId: 'lane-1' });
    // Same key, same body from register 2: its own payment on its own lane, not register 1's answer;
    // the code in it is already spent.
    tally.tried();
    const stolen = await stack.api(1, 'POST', '/v1/payments', { body, headers: sameBody });
    expect(stolen.status).toBe(201);
    expect(stolen.body.id).not.toBe(first.body.id);
    expect(stolen.body).toMatchObject({
      laneId: 'lane-2',
      registerId: 'register-2',
      state: 'declined',
      decision: { reason: 'code_replayed' },
    });
    // Another key of register 1, sent by register 2 with another body: not a 422 that would show the key in use.
    const otherKey = { 'idempotency-key': 'order-4712' };
    await stack.api(0, 'POST', '/v1/payments', { body: order('order-4712'), headers: otherKey });
    tally.tried();
    const probe = await stack.api(1, 'POST', '/v1/payments', { body: order('probe'), headers: otherKey });
    expect(probe.status).toBe(201);
    expect(probe.body).toMatchObject({ laneId: 'lane-2', orderRef: 'probe' });
    await stack.api(1, 'POST', `/v1/payments/${probe.body.id}/cancel`);
    // Register 1's key still replays register 1's payment.
    const again = await stack.api(0, 'POST', '/v1/payments', { body, headers: sameBody });
    expect(again.body).toEqual(first.body);
    tally.held('stolen-idempotency-key');
  });
});

/** A call to the gateway from a chosen loopback address (Linux routes all of 127/8 to lo). */
function callFrom(localAddress: string, key: string | null, path = '/v1/status') {
  const url = new URL(stack.gateway.url);
  return new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
    const req = request(
      { host: url.hostname, port: url.port, path, localAddress, headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('brute-force of register keys', () => {
  it('a guessing source gets 429 with Retry-After after its burst; the registers on other sources are unaffected', async () => {
    const guesser = '127.0.0.2';
    const statuses: number[] = [];
    const guesses = chaosCount(settings, 30, 300);
    const tried: string[] = [];
    const startedAt = performance.now();
    for (let i = 0; i < guesses; i++) {
      const guess = `rk_${randomBytes(24).toString('base64url')}`;
      tried.push(guess);
      const reply = await callFrom(guesser, guess);
      statuses.push(reply.status);
      if (reply.status === 429) {
        expect(Number(reply.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(JSON.parse(reply.body).error.code).toBe('rate_limited');
      }
      // Between guesses the honest registers keep working.
      if (i % 5 === 0) expect((await callFrom('127.0.0.1', stack.registers[i % 2]!.key)).status).toBe(200);
    }
    tally.tried(guesses);
    const elapsedSec = (performance.now() - startedAt) / 1000;
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    // After the burst of 10 the bucket refills at 60 a minute: a guess gets through only on a refilled token.
    const after = statuses.slice(10);
    expect(after.every((s) => s === 429 || s === 401)).toBe(true);
    expect(after.filter((s) => s === 401).length).toBeLessThanOrEqual(Math.ceil(elapsedSec) + 1);
    expect(after.filter((s) => s === 429).length).toBeGreaterThanOrEqual(
      after.length - Math.ceil(elapsedSec) - 1,
    );
    // Even a right key from the held source waits: it is held before any key is looked at.
    expect((await callFrom(guesser, stack.registers[0]!.key)).status).toBe(429);
    const metrics = await (await fetch(`${stack.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/tillgate_register_auth_refused_total\{reason="rate_limited"\} \d+/);
    const logs = stack.logs.join('');
    for (const guess of tried) expect(logs).not.toContain(guess);
    tally.held('register-key-brute-force');
  });
});

describe('a flood of bad scans on one lane', () => {
  it('thousands of garbage scans: the lane and the next lane still pay, the logs stay bounded', async () => {
    const scans = chaosCount(settings, 3_000, 50_000);
    const garbage = fc.sample(
      fc.oneof(
        fc.string({ minLength: 0, maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.stringMatching(/^PC1:[0-9A-Z $%*+./:-]{0,400}$/),
        fc.stringMatching(/^88\d{0,30}$/),
      ),
      { seed: settings.seed, numRuns: scans },
    );
    const linesBefore = stack.logs.length;
    const lane = stack.scanner('lane-1');
    for (const text of garbage) await lane.scan(text);
    tally.tried(scans);
    const logged = stack.logs.length - linesBefore;
    // Bounded: not a line (or two) per scan. Sampled and summarised lines are fine.
    expect(logged).toBeLessThan(200);

    const phone = await stack.phone(await stack.account(10_000));
    for (const register of [0, 1]) {
      const created = await stack.api(register, 'POST', '/v1/payments', {
        body: order(`after-flood-${register}`),
      });
      expect(created.body.state).toBe('awaiting_scan');
      expect(await stack.scanner(`lane-${register + 1}`).scan(phone.nextCode(nowSec()))).toBe(true);
      let payment = (await stack.api(register, 'GET', `/v1/payments/${created.body.id}?waitMs=5000`)).body;
      if (payment.state === 'authorizing')
        payment = (await stack.api(register, 'GET', `/v1/payments/${created.body.id}?waitMs=5000`)).body;
      expect(payment).toMatchObject({ state: 'approved', mode: 'online' });
    }
    expect(stack.gateway.ledger.verify().ok).toBe(true);
    tally.held('bad-scan-flood');
  });
});
