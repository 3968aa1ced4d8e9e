// The wallet as a server: authentication (401/403), validation (400/413), restarts on the same file,
// createWalletApp on its own, and logs that never carry a pay code or a key.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WalletContext } from './context.js';
import { sha256 } from './credentials.js';
import { FaultTable } from './faults.js';
import { ensureFirstIssuerKey } from './issuer-keys.js';
import { RiskFeed } from './risk-feed.js';
import { createStore, createWalletApp, startWallet } from './server.js';
import { authorizationBody, startTestWallet, TEST_NOW, type TestWallet } from './test-harness.js';

let tw: TestWallet;

beforeEach(async () => {
  tw = await startTestWallet();
});

afterEach(async () => {
  await tw.close();
});

describe('authentication', () => {
  it('answers /healthz without a key', async () => {
    expect(await tw.call('GET', '/healthz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('answers 401 for a missing, unknown or malformed key', async () => {
    for (const key of [null, 'wrong-key', `${tw.storeKey} extra`]) {
      const reply = await tw.call('GET', '/v1/issuer-keys', { key });
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe('unauthorized');
    }
    expect((await tw.call('POST', '/v1/authorizations', { key: tw.wallet.adminKey, body: {} })).status).toBe(
      401,
    );
    expect((await tw.call('GET', `/v1/sandbox/accounts/0011223344556677`, { key: null })).status).toBe(401);
  });

  it('answers 403 for a store key on admin endpoints and for another store’s id', async () => {
    expect((await tw.store('POST', '/v1/sandbox/accounts', { balance: 1 })).status).toBe(403);
    expect((await tw.store('POST', '/v1/devices', {})).status).toBe(403);
    const accountId = await tw.account(1_000);
    const phone = await tw.phone(accountId);
    const body = { ...authorizationBody(tw, phone.nextCode(TEST_NOW), 100), storeId: 'store-2' };
    const reply = await tw.store('POST', '/v1/authorizations', body);
    expect(reply.status).toBe(403);
    expect(await tw.balance(accountId)).toBe(1_000);
  });

  it('serves issuer keys to a store key and to the admin key', async () => {
    const byStore = await tw.store('GET', '/v1/issuer-keys');
    expect(byStore.body).toEqual([
      { kid: 1, publicKey: expect.stringMatching(/^[0-9a-f]{64}$/), revoked: false },
    ]);
    expect((await tw.admin('GET', '/v1/issuer-keys')).body).toEqual(byStore.body);
  });

  it('rotates a store key: the old one stops working', async () => {
    const rotated = await tw.admin('POST', '/v1/sandbox/stores', { storeId: tw.storeId });
    expect(rotated.body).toEqual({ storeId: tw.storeId, storeKey: expect.any(String) });
    expect((await tw.store('GET', '/v1/issuer-keys')).status).toBe(401);
    expect((await tw.call('GET', '/v1/issuer-keys', { key: rotated.body.storeKey })).status).toBe(200);
    const row = tw.wallet.db.prepare('SELECT key_sha256 FROM stores WHERE store_id = ?').get(tw.storeId) as {
      key_sha256: string;
    };
    expect(row.key_sha256).toBe(sha256(rotated.body.storeKey).toString('hex'));
  });
});

describe('validation', () => {
  it('names the offending field in a 400', async () => {
    const accountId = await tw.account(1_000);
    const phone = await tw.phone(accountId);
    const good = authorizationBody(tw, phone.nextCode(TEST_NOW), 100);
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, surprise: 1 }, 'surprise'],
      [{ ...good, amount: 0 }, 'amount'],
      [{ ...good, amount: 10.5 }, 'amount'],
      [{ ...good, currency: 'yen' }, 'currency'],
      [{ ...good, id: undefined }, 'id'],
      [{ ...good, basket: [{ category: 'food', amount: -1 }] }, 'basket.0.amount'],
    ];
    for (const [body, field] of cases) {
      const reply = await tw.store('POST', '/v1/authorizations', body);
      expect({ status: reply.status, code: reply.body.error.code, field: reply.body.error.field }).toEqual({
        status: 400,
        code: 'invalid_request',
        field,
      });
      expect(reply.body.error.message).toContain(field);
    }
    expect(
      (await tw.call('POST', '/v1/authorizations', { key: tw.storeKey, rawBody: '{"id":' })).status,
    ).toBe(400);
    expect((await tw.call('POST', '/v1/authorizations', { key: tw.storeKey })).body.error.field).toBe('body');
    expect(await tw.balance(accountId)).toBe(1_000);
  });

  it('answers 413 for a body over 64 kB', async () => {
    const reply = await tw.call('POST', '/v1/authorizations', {
      key: tw.storeKey,
      rawBody: JSON.stringify({ pad: 'x'.repeat(70_000) }),
    });
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('payload_too_large');
    const stranger = await tw.call('POST', '/v1/authorizations', {
      rawBody: JSON.stringify({ pad: 'x'.repeat(70_000) }),
    });
    expect(stranger.status).toBe(401);
  });

  it('answers 404 for unknown endpoints and accounts, and for enrolling on an unknown account', async () => {
    expect((await tw.store('GET', '/v1/nothing')).status).toBe(404);
    expect((await tw.admin('GET', '/v1/sandbox/accounts/0011223344556677')).body.error.code).toBe(
      'not_found',
    );
    const enroll = await tw.admin('POST', '/v1/devices', {
      accountId: '0011223344556677',
      publicKey: 'ab'.repeat(32),
    });
    expect(enroll.status).toBe(404);
  });
});

describe('restart and lifecycle', () => {
  it('keeps accounts, devices, stores, keys and the admin key across a restart on the same file', async () => {
    const accountId = await tw.account(5_000);
    const phone = await tw.phone(accountId);
    const first = await tw.store(
      'POST',
      '/v1/authorizations',
      authorizationBody(tw, phone.nextCode(TEST_NOW), 1_000),
    );
    const adminKey = tw.wallet.adminKey;
    const keys = (await tw.store('GET', '/v1/issuer-keys')).body;
    await tw.restart();
    expect(tw.wallet.adminKey).toBe(adminKey);
    expect(await tw.balance(accountId)).toBe(4_000);
    expect((await tw.store('GET', '/v1/issuer-keys')).body).toEqual(keys);
    expect((await tw.store('GET', `/v1/authorizations/${first.body.id}`)).body).toEqual(first.body);
    expect(
      (await tw.store('POST', '/v1/authorizations', authorizationBody(tw, phone.nextCode(TEST_NOW), 1_000)))
        .body.status,
    ).toBe('approved');
    const feed = await tw.store('GET', `/v1/stores/${tw.storeId}/risk-feed`);
    expect(feed.body.events.filter((e: { type: string }) => e.type === 'issuer_key_added')).toHaveLength(1);
  });

  it('uses a given admin key and keeps it', async () => {
    await tw.restart({ adminKey: 'given-admin-key' });
    expect(tw.wallet.adminKey).toBe('given-admin-key');
    expect((await tw.call('GET', '/v1/issuer-keys', { key: 'given-admin-key' })).status).toBe(200);
  });

  it('creates stores through the exported helper, on the database or the running wallet', async () => {
    const viaWallet = createStore(tw.wallet, 'store-9');
    const viaDb = createStore(tw.wallet.db, 'store-10');
    expect((await tw.call('GET', '/v1/issuer-keys', { key: viaWallet.storeKey })).status).toBe(200);
    expect((await tw.call('GET', '/v1/issuer-keys', { key: viaDb.storeKey })).status).toBe(200);
    expect(() => createStore(tw.wallet, 'bad store id')).toThrow();
  });

  it('refuses a second wallet on a port in use, and closes its database', async () => {
    await expect(
      startWallet({
        dbPath: `${tw.dir}/other.sqlite`,
        port: tw.wallet.port,
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow();
  });
});

describe('createWalletApp', () => {
  it('lets go of a long poll when its client disconnects', async () => {
    const closing = new AbortController();
    const db = tw.wallet.db;
    const feed = new RiskFeed(db, () => TEST_NOW);
    ensureFirstIssuerKey(db, feed, TEST_NOW);
    const context: WalletContext = {
      db,
      clock: () => TEST_NOW,
      logger: pino({ level: 'silent' }),
      codeRules: { maxCodeAgeSec: 120, maxClockSkewSec: 30 },
      certificateLifetimeSec: 86_400,
      adminKeySha256: sha256('admin'),
      feed,
      faults: new FaultTable(),
      closing: closing.signal,
    };
    const server = createServer(createWalletApp(context));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/stores/${tw.storeId}/risk-feed?cursor=999&waitMs=20000`;
      const client = new AbortController();
      const poll = fetch(url, {
        headers: { authorization: `Bearer ${tw.storeKey}` },
        signal: client.signal,
      }).catch(() => null);
      await waitFor(() => feed.waiting === 1);
      client.abort();
      await poll;
      await waitFor(() => feed.waiting === 0);
      expect(feed.waiting).toBe(0);
    } finally {
      closing.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('logs', () => {
  it('never contain a pay code, a store key or the admin key', async () => {
    const accountId = await tw.account(5_000);
    const phone = await tw.phone(accountId);
    const code = phone.nextCode(TEST_NOW);
    await tw.store('POST', '/v1/authorizations', authorizationBody(tw, code, 100));
    await tw.store('POST', '/v1/authorizations', { ...authorizationBody(tw, code, 100), bogus: true });
    const numeric = (await tw.admin('POST', '/v1/sandbox/numeric-codes', { accountId })).body.code;
    await tw.store('POST', '/v1/authorizations', authorizationBody(tw, numeric, 100));
    const text = tw.logs.join('');
    expect(text).toContain('"msg":"authorization"');
    for (const secret of [code, code.slice(4, 60), numeric, tw.storeKey, tw.wallet.adminKey])
      expect(text).not.toContain(secret);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
