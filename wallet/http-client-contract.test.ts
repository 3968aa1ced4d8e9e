// The gateway's own HttpWalletClient against this wallet: every answer it gets passes its response checks.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { entryHash, GENESIS_HASH, type UnhashedEntry } from '../gateway/ledger/chain.js';
import { HttpWalletClient } from '../gateway/wallet-client/http-wallet-client.js';
import { WalletCallError } from '../gateway/wallet-client/wallet-client.js';
import { authorizationBody, startTestWallet, TEST_NOW, type TestWallet } from './test-harness.js';

let tw: TestWallet;

beforeEach(async () => {
  tw = await startTestWallet();
});

afterEach(async () => {
  await tw.close();
});

it('serves every call of the gateway’s wallet client', async () => {
  const client = new HttpWalletClient({ url: tw.wallet.url, storeKey: tw.storeKey });
  const signal = AbortSignal.timeout(5_000);
  const accountId = await tw.account(10_000);
  const phone = await tw.phone(accountId);
  const request = authorizationBody(tw, phone.nextCode(TEST_NOW), 1_000);
  expect(await client.authorize(request, signal)).toEqual({
    id: request.id,
    status: 'approved',
    accountId,
    deviceId: phone.deviceId,
  });
  expect(await client.getAuthorization(request.id, signal)).toMatchObject({ status: 'approved' });
  expect(await client.getAuthorization('never-seen', signal)).toBeNull();
  await client.refund({ id: 'r-1', authorizationId: request.id, amount: 400 }, signal);
  await client.reverse(request.id, signal);
  expect(await tw.balance(accountId)).toBe(10_000);
  expect(await client.issuerKeys(signal)).toHaveLength(1);
  const unhashed: UnhashedEntry = {
    seq: 1,
    entryId: 'e-1',
    type: 'authorization',
    mode: 'online',
    paymentId: 'p-1',
    authorizationId: request.id,
    amount: 1_000,
    currency: 'JPY',
    accountId,
    deviceId: phone.deviceId,
    counter: phone.lastCounter,
    laneId: 'lane-1',
    registerId: 'reg-1',
    occurredAt: new Date(TEST_NOW * 1000).toISOString(),
    prevHash: GENESIS_HASH,
  };
  const batch = {
    storeId: tw.storeId,
    batchId: 'b-1',
    entries: [{ ...unhashed, hash: entryHash(unhashed) }],
  };
  expect(await client.uploadBatch(batch, signal)).toEqual({
    acceptedThroughSeq: 1,
    results: [{ entryId: 'e-1', status: 'settled' }],
  });
  const page = await client.riskFeed(tw.storeId, null, 0, signal);
  expect(page.events[0]).toMatchObject({ type: 'issuer_key_added', kid: 1 });
  const refused = await client
    .refund({ id: 'r-2', authorizationId: request.id, amount: 1 }, signal)
    .catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(WalletCallError);
  expect(refused).toMatchObject({ failure: 'http', status: 409, code: 'not_refundable' });
});
