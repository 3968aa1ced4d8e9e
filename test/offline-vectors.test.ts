// The public pay-code vectors used offline: a gateway whose wallet URL is a closed port (every connection refused),
// its clock at the vectors' `now`, the vectors' issuer key stored from an earlier sync and a fresh risk feed. Every
// case gets the outcome the vectors name — valid codes approved offline, each failing check its own reason.
// Also: a wallet that keeps answering `pending` is not overruled offline (a scripted client: the sandbox never
// answers pending).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../gateway/config.js';
import { openDatabase } from '../gateway/db/open.js';
import { databasePath, type RunningGateway, startGateway } from '../gateway/gateway.js';
import { sha256Hex } from '../gateway/http/auth.js';
import { createLogger } from '../gateway/log.js';
import { FEED_REFRESHED_AT_KEY } from '../gateway/offline/feed-source.js';
import { HttpWalletClient } from '../gateway/wallet-client/http-wallet-client.js';
import type { WalletClient } from '../gateway/wallet-client/wallet-client.js';
import { TestClock } from './support/offline.js';
import { loadVectors } from './support/vectors.js';

const vectors = loadVectors();
const NOW_MS = vectors.now * 1000;
const REGISTER_KEY = 'rk_offline-vectors-register-key';
/** Real time from the vectors' `now`, set back to it before each case: deadlines still pass. */
const clock = new TestClock({ follow: true });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startOfflineGateway(
  dir: string,
  wallet?: (url: string) => WalletClient,
): Promise<RunningGateway> {
  const config: Config = parseConfig({
    storeId: 'store-vectors',
    dataDir: join(dir, 'gateway'),
    http: { host: '127.0.0.1', port: 0 },
    wallet: {
      url: `http://127.0.0.1:${await closedPort()}`,
      storeKey: 'sk_vectors-store-key',
      timeoutMs: 400,
    },
    registers: [{ id: 'register-1', laneId: 'lane-1', keySha256: sha256Hex(REGISTER_KEY) }],
    lanes: [{ id: 'lane-1' }],
    sync: { enabled: false },
  });
  // What an earlier online day left in the file: the issuer keys and a risk feed refreshed a minute ago.
  const db = openDatabase(databasePath(config));
  const insertKey = db.prepare(
    'INSERT INTO issuer_keys (kid, public_key, revoked, updated_at) VALUES (?, ?, 0, ?)',
  );
  for (const key of vectors.issuerKeys) insertKey.run(key.kid, key.publicKey, NOW_MS);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(
    FEED_REFRESHED_AT_KEY,
    String(NOW_MS - 60_000),
  );
  db.close();
  const logger = createLogger({ level: 'silent' });
  clock.ms = NOW_MS;
  const deps = { logger, now: clock.now };
  return startGateway(config, wallet === undefined ? deps : { ...deps, wallet: wallet(config.wallet.url) });
}

async function post(gateway: RunningGateway, payCode: string, amount = 100): Promise<Response> {
  return fetch(`${gateway.url}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${REGISTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount, currency: 'JPY', orderRef: `v-${Math.random()}`, payCode }),
  });
}

async function pay(gateway: RunningGateway, payCode: string, amount = 100) {
  const response = await post(gateway, payCode, amount);
  expect(response.status).toBe(201);
  // biome-ignore lint/suspicious/noExplicitAny: read field by field
  return (await response.json()) as any;
}

describe('the public vectors, offline', () => {
  let dir: string;
  let gateway: RunningGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillgate-offline-vectors-'));
    gateway = await startOfflineGateway(dir);
  });
  afterAll(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('empty: the register API refuses an empty payCode before any check (400 naming the field)', async () => {
    const empty = vectors.cases.find((c) => c.code === '')!;
    expect(empty.expect).toBe('malformed_code');
    const response = await post(gateway, empty.code);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_request', field: 'payCode' } });
  });

  // In file order: the valid codes' counters rise (41, 42, 43), as one phone shows them.
  for (const c of vectors.cases.filter((v) => v.code !== '')) {
    const expected =
      c.expect === 'valid'
        ? { state: 'approved', mode: 'offline', decision: { approved: true } }
        : {
            state: 'declined',
            decision: { approved: false, reason: c.expect === 'online_only' ? 'online_required' : c.expect },
          };
    it(`${c.name} → ${c.expect === 'valid' ? 'approved offline' : expected.decision.reason}`, async () => {
      clock.ms = NOW_MS;
      const paid = await pay(gateway, c.code);
      expect(paid).toMatchObject(expected);
      if (c.expect !== 'valid' && c.expect !== 'online_only') expect(paid.mode).toBeUndefined();
    });
  }

  it('a valid code shown again is code_replayed offline too', async () => {
    const valid = vectors.cases.find((c) => c.name === 'valid')!;
    clock.ms = NOW_MS;
    expect((await pay(gateway, valid.code)).decision).toEqual({ approved: false, reason: 'code_replayed' });
  });

  it('the three offline approvals are what the store holds unsynced', () => {
    const status = gateway.status();
    expect(status.mode).toBe('offline');
    expect(status.offline).toMatchObject({
      storeExposure: 300,
      devices: [{ unsyncedTotal: 300, consecutive: 3 }],
    });
  });
});

describe('a wallet that keeps answering pending', () => {
  it('is not overruled offline: declined online_required, with a reversal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillgate-offline-pending-'));
    let asked = 0;
    const gateway = await startOfflineGateway(dir, (url) => {
      const http = new HttpWalletClient({ url, storeKey: 'sk_vectors-store-key' });
      return {
        ...bind(http),
        async authorize(request) {
          asked += 1;
          return { id: request.id, status: 'pending' };
        },
        async getAuthorization(id) {
          asked += 1;
          return { id, status: 'pending' };
        },
      };
    });
    try {
      const valid = vectors.cases.find((c) => c.name === 'valid')!;
      clock.ms = NOW_MS;
      const paid = await pay(gateway, valid.code);
      expect(asked).toBeGreaterThan(1);
      expect(paid).toMatchObject({
        state: 'declined',
        mode: 'online',
        decision: { reason: 'online_required' },
      });
      expect(gateway.ledger.forPayment(paid.id).map((e) => e.type)).toEqual(['reversal']);
    } finally {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The client's methods bound to it, to spread into a scripted client. */
function bind(client: HttpWalletClient): WalletClient {
  return {
    authorize: client.authorize.bind(client),
    getAuthorization: client.getAuthorization.bind(client),
    reverse: client.reverse.bind(client),
    refund: client.refund.bind(client),
    issuerKeys: client.issuerKeys.bind(client),
    uploadBatch: client.uploadBatch.bind(client),
    riskFeed: client.riskFeed.bind(client),
  };
}
