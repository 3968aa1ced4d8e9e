// Online authorization at the sandbox wallet: PC1 and numeric codes, exactly-once by id, every check the
// wallet makes itself (CONTRACT §1.1 checks 1–8 and the account checks).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateEd25519, privateKeyFromSeed, signEd25519 } from '../gateway/paycode/ed25519.js';
import { makeNumericCode } from '../gateway/paycode/numeric.js';
import { encodeCodeBody, formatPc1, parsePc1 } from '../gateway/paycode/pc1.js';
import {
  authorizationBody,
  newAuthorizationId,
  startTestWallet,
  TEST_NOW,
  type TestWallet,
} from './test-harness.js';

let tw: TestWallet;

beforeEach(async () => {
  tw = await startTestWallet();
});

afterEach(async () => {
  await tw.close();
});

async function pay(payCode: string, amount: number, id = newAuthorizationId()) {
  return tw.store('POST', '/v1/authorizations', authorizationBody(tw, payCode, amount, id));
}

describe('PC1 authorization', () => {
  it('enrolls a device, approves a code and debits once', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId);
    expect(phone.enrollment.certificate).toHaveLength(252);
    expect(phone.enrollment.kid).toBe(1);
    const reply = await pay(phone.nextCode(TEST_NOW), 1_200);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      id: expect.any(String),
      status: 'approved',
      accountId,
      deviceId: phone.deviceId,
    });
    expect(await tw.balance(accountId)).toBe(8_800);
    const fetched = await tw.store('GET', `/v1/authorizations/${reply.body.id}`);
    expect(fetched.body).toEqual(reply.body);
  });

  it('returns the first result for a repeated id and never debits twice', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId);
    const body = authorizationBody(tw, phone.nextCode(TEST_NOW), 1_000);
    const first = await tw.store('POST', '/v1/authorizations', body);
    tw.clock.now += 500; // the code is now too old: a fresh check would decline, a repeat must not
    const again = await tw.store('POST', '/v1/authorizations', body);
    expect(again.body).toEqual(first.body);
    expect(await tw.balance(accountId)).toBe(9_000);
  });

  it('debits once under 20 concurrent repeats of one id', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId);
    const body = authorizationBody(tw, phone.nextCode(TEST_NOW), 700);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => tw.store('POST', '/v1/authorizations', body)),
    );
    for (const reply of replies) expect(reply.body).toEqual(replies[0]!.body);
    expect(replies[0]!.body.status).toBe('approved');
    expect(await tw.balance(accountId)).toBe(9_300);
  });

  it('approves one code once when 20 different ids race with it', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId);
    const code = phone.nextCode(TEST_NOW);
    const replies = await Promise.all(Array.from({ length: 20 }, () => pay(code, 100)));
    const statuses = replies.map((r) => r.body.reason ?? r.body.status).sort();
    expect(statuses.filter((s) => s === 'approved')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'code_replayed')).toHaveLength(19);
    expect(await tw.balance(accountId)).toBe(9_900);
  });

  it('declines a replayed or lower counter with code_replayed', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId);
    const code = phone.codeWithCounter(5, TEST_NOW);
    expect((await pay(code, 100)).body.status).toBe('approved');
    const replayed = await pay(code, 100);
    expect(replayed.body).toMatchObject({
      status: 'declined',
      reason: 'code_replayed',
      deviceId: phone.deviceId,
    });
    expect((await pay(phone.codeWithCounter(4, TEST_NOW), 100)).body.reason).toBe('code_replayed');
    expect((await pay(phone.codeWithCounter(6, TEST_NOW), 100)).body.status).toBe('approved');
    expect(await tw.balance(accountId)).toBe(9_800);
  });

  it('records declines so that a repeat returns them', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId);
    const id = newAuthorizationId();
    tw.clock.now += 500;
    const first = await pay(phone.nextCode(TEST_NOW), 100, id);
    expect(first.body).toEqual({ id, status: 'declined', reason: 'code_expired' });
    tw.clock.now = TEST_NOW;
    expect((await tw.store('GET', `/v1/authorizations/${id}`)).body).toEqual(first.body);
    expect((await pay(phone.nextCode(TEST_NOW), 100, id)).body).toEqual(first.body);
  });

  it('declines a frozen account, a revoked device and a short balance, without debiting', async () => {
    const accountId = await tw.account(1_000);
    const phone = await tw.phone(accountId);
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/freeze`);
    expect((await pay(phone.nextCode(TEST_NOW), 100)).body.reason).toBe('account_frozen');
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/unfreeze`);
    expect((await pay(phone.nextCode(TEST_NOW), 1_001)).body.reason).toBe('insufficient_funds');
    expect((await pay(phone.nextCode(TEST_NOW), 1_000)).body.status).toBe('approved');
    await tw.admin('POST', `/v1/sandbox/devices/${phone.deviceId}/revoke`);
    expect((await pay(phone.nextCode(TEST_NOW), 1)).body.reason).toBe('device_revoked');
    expect(await tw.balance(accountId)).toBe(0);
  });

  it('declines a currency the account does not hold', async () => {
    const accountId = await tw.account(1_000, 'USD');
    const phone = await tw.phone(accountId);
    expect((await pay(phone.nextCode(TEST_NOW), 100)).body.reason).toBe('wallet_declined');
    expect(await tw.balance(accountId)).toBe(1_000);
  });

  it('declines a reversal-blocked id and never debits it', async () => {
    const accountId = await tw.account(1_000);
    const phone = await tw.phone(accountId);
    const id = newAuthorizationId();
    expect((await tw.store('POST', `/v1/authorizations/${id}/reversal`, {})).body).toEqual({
      id,
      status: 'reversed',
    });
    const reply = await pay(phone.nextCode(TEST_NOW), 100, id);
    expect(reply.body).toEqual({ id, status: 'declined', reason: 'wallet_declined' });
    expect(await tw.balance(accountId)).toBe(1_000);
  });

  it('answers 404 for an id never seen, and for another store’s id', async () => {
    expect((await tw.store('GET', '/v1/authorizations/nope')).body.error.code).toBe('not_found');
    const accountId = await tw.account(1_000);
    const phone = await tw.phone(accountId);
    const id = newAuthorizationId();
    await pay(phone.nextCode(TEST_NOW), 100, id);
    const other = await tw.admin('POST', '/v1/sandbox/stores', { storeId: 'store-2' });
    const seenByOther = await tw.call('GET', `/v1/authorizations/${id}`, { key: other.body.storeKey });
    expect(seenByOther.status).toBe(404);
    const reusedByOther = await tw.call('POST', '/v1/authorizations', {
      key: other.body.storeKey,
      body: { ...authorizationBody(tw, phone.nextCode(TEST_NOW), 100, id), storeId: 'store-2' },
    });
    expect(reusedByOther.status).toBe(409);
  });
});

describe('the pay-code checks the wallet makes itself', () => {
  interface VectorFile {
    now: number;
    cases: { name: string; code: string; expect: string }[];
  }
  const vectorsPath = fileURLToPath(new URL('../test/vectors/paycode-v1.json', import.meta.url));
  const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as VectorFile;

  it('declines every public vector: the vector issuer key is not one of its own', async () => {
    tw.clock.now = vectors.now;
    for (const vector of vectors.cases) {
      const reply = await pay(vector.code, 100);
      const expected =
        vector.expect === 'malformed_code'
          ? 'malformed_code'
          : vector.expect === 'online_only'
            ? 'wallet_declined'
            : 'unknown_issuer_key';
      expect({ name: vector.name, reason: reply.body.reason }).toEqual({
        name: vector.name,
        reason: expected,
      });
    }
  });

  it('declines codes that are expired, from the future, or badly signed', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId);
    expect((await pay(phone.nextCode(TEST_NOW - 121), 1)).body.reason).toBe('code_expired');
    expect((await pay(phone.nextCode(TEST_NOW + 31), 1)).body.reason).toBe('code_from_future');
    const bytes = parsePc1(phone.nextCode(TEST_NOW))!.bytes;
    bytes[197] = bytes[197]! ^ 1;
    expect((await pay(formatPc1(bytes), 1)).body.reason).toBe('bad_code_signature');
    expect((await pay(phone.nextCode(TEST_NOW - 120), 1)).body.status).toBe('approved');
    expect((await pay(`${phone.nextCode(TEST_NOW)}x`, 1)).body.reason).toBe('malformed_code');
    expect(await tw.balance(accountId)).toBe(9_999);
  });

  it('declines a certificate the phone altered and re-signed', async () => {
    const accountId = await tw.account(10_000);
    const pair = generateEd25519();
    const enrolled = await tw.admin('POST', '/v1/devices', {
      accountId,
      publicKey: pair.publicKey.toString('hex'),
    });
    const certificate = Buffer.from(enrolled.body.certificate, 'hex');
    certificate.writeUInt32BE(9_999_999, 50); // a bigger offline limit
    const body = encodeCodeBody(certificate, 1, TEST_NOW);
    const code = formatPc1(
      Buffer.concat([
        body,
        signEd25519(privateKeyFromSeed(pair.seed), Buffer.concat([Buffer.from('PC1-CODE'), body])),
      ]),
    );
    expect((await pay(code, 1)).body.reason).toBe('bad_certificate_signature');
  });

  it('declines an expired certificate and a revoked issuer key', async () => {
    const accountId = await tw.account(10_000);
    const phone = await tw.phone(accountId, { expiresAt: TEST_NOW + 10 });
    tw.clock.now = TEST_NOW + 10;
    expect((await pay(phone.nextCode(tw.clock.now), 1)).body.reason).toBe('certificate_expired');
    const fresh = await tw.phone(accountId);
    await tw.admin('POST', '/v1/sandbox/issuer-keys');
    await tw.admin('POST', '/v1/sandbox/issuer-keys/1/revoke');
    expect((await pay(fresh.nextCode(tw.clock.now), 1)).body.reason).toBe('issuer_key_revoked');
    const underKey2 = await tw.phone(accountId);
    expect(underKey2.enrollment.kid).toBe(2);
    expect((await pay(underKey2.nextCode(tw.clock.now), 1)).body.status).toBe('approved');
  });

  it('declines a device it never enrolled, even under its own key', async () => {
    const other = await startTestWallet();
    try {
      const accountId = await other.account(10_000);
      const stranger = await other.phone(accountId);
      // Both wallets sign with kid 1, but with different keys: the certificate does not verify here.
      expect((await pay(stranger.nextCode(TEST_NOW), 1)).body.reason).toBe('bad_certificate_signature');
    } finally {
      await other.close();
    }
  });
});

describe('numeric codes', () => {
  it('approves a code the wallet issued, once', async () => {
    const accountId = await tw.account(5_000);
    const issued = await tw.admin('POST', '/v1/sandbox/numeric-codes', { accountId });
    expect(issued.body).toEqual({ code: expect.stringMatching(/^88[0-9]{18}$/), expiresAt: TEST_NOW + 60 });
    const first = await pay(issued.body.code, 2_000);
    expect(first.body).toEqual({ id: expect.any(String), status: 'approved', accountId });
    expect((await pay(issued.body.code, 2_000)).body.reason).toBe('code_replayed');
    expect(await tw.balance(accountId)).toBe(3_000);
  });

  it('declines an expired code, an unknown code and a bad check digit', async () => {
    const accountId = await tw.account(5_000);
    const issued = await tw.admin('POST', '/v1/sandbox/numeric-codes', { accountId });
    tw.clock.now += 60;
    expect((await pay(issued.body.code, 1)).body.reason).toBe('code_expired');
    expect((await pay(makeNumericCode('00000000000000000'), 1)).body.reason).toBe('wallet_declined');
    const code = issued.body.code as string;
    const badCheck = code.slice(0, 19) + String((Number(code[19]) + 1) % 10);
    expect((await pay(badCheck, 1)).body.reason).toBe('malformed_code');
    expect(await tw.balance(accountId)).toBe(5_000);
  });

  it('declines a numeric code for a frozen account', async () => {
    const accountId = await tw.account(5_000);
    const issued = await tw.admin('POST', '/v1/sandbox/numeric-codes', { accountId });
    await tw.admin('POST', `/v1/sandbox/accounts/${accountId}/freeze`);
    expect((await pay(issued.body.code, 1)).body.reason).toBe('account_frozen');
  });
});
