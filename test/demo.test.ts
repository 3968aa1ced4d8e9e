// The demo as a newcomer meets it: demo.json names the URLs and register keys, a register's POST is paid by the
// simulated customer's scan, and a second start on the same data dir keeps the customers and their phones.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemo } from '../gateway/demo/demo.js';

const dir = mkdtempSync(join(tmpdir(), 'tillgate-demo-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function payOnce(gatewayUrl: string, key: string, amount: number) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const created = await fetch(`${gatewayUrl}/v1/payments`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ amount, currency: 'JPY', orderRef: `demo-${amount}` }),
  });
  expect(created.status).toBe(201);
  let payment = (await created.json()) as { id: string; state: string; decision?: { approved: boolean } };
  for (let i = 0; i < 10 && (payment.state === 'awaiting_scan' || payment.state === 'authorizing'); i++) {
    const polled = await fetch(`${gatewayUrl}/v1/payments/${payment.id}?waitMs=5000`, { headers });
    payment = (await polled.json()) as typeof payment;
  }
  return payment;
}

describe('tillgate demo', () => {
  it('comes up, writes demo.json, and a register POST is paid by the simulated customer', async () => {
    const demo = await startDemo({
      dataDir: dir,
      port: 0,
      logger: pino({ level: 'silent' }),
      customerDelayMs: 20,
    });
    try {
      const file = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8'));
      expect(file).toMatchObject({
        gatewayUrl: demo.gateway.url,
        walletUrl: demo.wallet.url,
        storeId: 'demo-store',
      });
      expect(file.registers).toHaveLength(2);
      expect(statSync(join(dir, 'demo.json')).mode & 0o077).toBe(0);
      const payment = await payOnce(file.gatewayUrl, file.registers[0].key, 1200);
      expect(payment).toMatchObject({ state: 'approved', decision: { approved: true } });
      const second = await payOnce(file.gatewayUrl, file.registers[1].key, 300);
      expect(second.state).toBe('approved');
    } finally {
      await demo.close();
    }
  });

  it('starts again on the same data dir with the same customers, whose phones go on counting', async () => {
    const demo = await startDemo({
      dataDir: dir,
      port: 0,
      logger: pino({ level: 'silent' }),
      customerDelayMs: 20,
    });
    try {
      const payment = await payOnce(demo.file.gatewayUrl, demo.file.registers[0]!.key, 500);
      expect(payment.state).toBe('approved');
      const account = demo.customers[0]!.accountId;
      const balance = await fetch(`${demo.wallet.url}/v1/sandbox/accounts/${account}`, {
        headers: { authorization: `Bearer ${demo.wallet.adminKey}` },
      });
      expect(((await balance.json()) as { balance: number }).balance).toBe(100_000 - 1200 - 500);
    } finally {
      await demo.close();
    }
  });
});
