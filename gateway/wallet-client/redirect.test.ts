// The wallet client never follows a redirect: a 3xx from "the wallet" sends neither the store key nor the pay code
// elsewhere, and leaves the outcome unknown (a non-definitive error, so the payment is queried, never approved).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWalletClient } from './http-wallet-client.js';
import { WalletCallError } from './wallet-client.js';

let elsewhere: Server;
let wallet: Server;
const reachedElsewhere: string[] = [];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

beforeAll(async () => {
  elsewhere = createServer((req, res) => {
    reachedElsewhere.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: 'a_1', status: 'approved' }));
  });
  const target = await listen(elsewhere);
  wallet = createServer((req, res) => {
    res.statusCode = req.method === 'GET' ? 302 : 307;
    res.setHeader('location', `${target}${req.url}`);
    res.end();
  });
  await listen(wallet);
});

afterAll(async () => {
  await new Promise((resolve) => wallet.close(resolve));
  await new Promise((resolve) => elsewhere.close(resolve));
});

describe('HttpWalletClient and redirects', () => {
  it('does not follow a 307 or 302: a non-definitive error, and nothing reaches the other server', async () => {
    const { port } = wallet.address() as AddressInfo;
    const client = new HttpWalletClient({
      url: `http://127.0.0.1:${port}`,
      storeKey: 'sk_redirect_test_key',
    });
    const request = {
      id: 'a_1',
      storeId: 'store-1',
      laneId: 'lane-1',
      payCode: 'PC1:ABC',
      amount: 100,
      currency: 'JPY',
      createdAt: 1,
    };
    const sent = await client.authorize(request, AbortSignal.timeout(2_000)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(sent).toBeInstanceOf(WalletCallError);
    expect((sent as WalletCallError).status).toBe(307);
    expect((sent as WalletCallError).definitive).toBe(false);
    const queried = await client.getAuthorization('a_1', AbortSignal.timeout(2_000)).then(
      () => null,
      (error: unknown) => error,
    );
    expect((queried as WalletCallError).status).toBe(302);
    expect(reachedElsewhere).toEqual([]);
  });
});
