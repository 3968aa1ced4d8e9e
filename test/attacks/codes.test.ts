// Attacks with pay codes, each a named test through the real stack (sandbox wallet + gateway on loopback, real
// SQLite files): replays (same lane, other lane, after a restart, after the clock is set back), forged, tampered,
// expired and future-dated codes, a frozen account and a revoked device. Each is tried online and, where the
// gateway alone must hold, with the line to the wallet cut.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeBase45 } from '../../gateway/paycode/base45.js';
import { generateEd25519 } from '../../gateway/paycode/ed25519.js';
import { formatPc1 } from '../../gateway/paycode/pc1.js';
import { issueCertificate, makePayCode } from '../../gateway/paycode/phone.js';
import { type OfflineStack, startOfflineStack } from '../support/offline.js';
import { attempt, type Customer, customer, expectRefused, Tally } from './support.js';

const tally = new Tally('attacks/codes');
let s: OfflineStack;

beforeAll(async () => {
  // One customer may pay many times here: velocity has its own attack (offline.test.ts).
  s = await startOfflineStack({ config: { offline: { velocity: { maxPayments: 1_000, maxLanes: 10 } } } });
});

afterAll(async () => {
  await s?.close();
  tally.report();
});

beforeEach(async () => {
  await s.goOnline();
  s.refreshFeed();
});

async function expectApproved(c: Customer, amount: number, payCode: string, register = 0, mode = 'online') {
  const payment = await attempt(s.stack, register, amount, payCode);
  expect(payment).toMatchObject({ state: 'approved', mode, accountId: c.accountId });
  return payment;
}

describe('replayed code', () => {
  it('same lane, online and offline: the second use is code_replayed and charges nothing', async () => {
    const c = await customer(s);
    const code = c.code();
    await expectApproved(c, 300, code);
    tally.tried();
    expectRefused(s.stack, await attempt(s.stack, 0, 300, code), 'code_replayed');
    await s.goOffline();
    tally.tried();
    expectRefused(s.stack, await attempt(s.stack, 0, 300, code), 'code_replayed');
    expect(await s.stack.balance(c.accountId)).toBe(100_000 - 300);
    tally.held('replay-same-lane');
  });

  it('other lane, offline: the gateway alone refuses it (the counter is store-wide)', async () => {
    const c = await customer(s);
    await s.goOffline();
    const code = c.code();
    await expectApproved(c, 400, code, 0, 'offline');
    tally.tried();
    expectRefused(s.stack, await attempt(s.stack, 1, 400, code), 'code_replayed');
    // Older counters too, not only the one seen: a phone's counter only goes up.
    tally.tried();
    expectRefused(
      s.stack,
      await attempt(s.stack, 1, 400, c.phone.codeWithCounter(1, s.clock.sec)),
      'code_replayed',
    );
    await s.goOnline();
    expect((await s.syncNow()).ok).toBe(true);
    expect(await s.stack.balance(c.accountId)).toBe(100_000 - 400);
    tally.held('replay-other-lane');
  });

  it('after a restart: the highest counter seen is on disk, not in memory', async () => {
    const c = await customer(s);
    const code = c.code();
    await expectApproved(c, 500, code);
    await s.stack.restartGateway();
    await s.goOffline();
    tally.tried();
    expectRefused(s.stack, await attempt(s.stack, 1, 500, code), 'code_replayed');
    tally.held('replay-after-restart');
  });

  it('after the clock is set back: restarted with a time before the first use, the code is still spent', async () => {
    const c = await customer(s);
    const firstUse = s.clock.ms;
    const code = c.code();
    await expectApproved(c, 600, code);
    // 20 s before the first use: inside the skew allowance, so only the durable counter can stop the replay.
    s.clock.ms = firstUse - 20_000;
    await s.stack.restartGateway();
    tally.tried(2);
    expectRefused(s.stack, await attempt(s.stack, 0, 600, code), 'code_replayed');
    await s.goOffline();
    expectRefused(s.stack, await attempt(s.stack, 1, 600, code), 'code_replayed');
    // The same counter signed anew at the earlier time: still spent.
    tally.tried();
    const again = c.phone.codeWithCounter(c.phone.lastCounter, s.clock.sec);
    expectRefused(s.stack, await attempt(s.stack, 1, 600, again), 'code_replayed');
    // An hour back, the old code is now from the future; refused either way, and never approved.
    s.clock.ms = firstUse - 3_600_000;
    await s.stack.restartGateway();
    await s.goOffline();
    tally.tried();
    expectRefused(s.stack, await attempt(s.stack, 0, 600, code), 'code_from_future');
    s.clock.ms = firstUse + 2_000;
    await s.stack.restartGateway();
    expect(await s.stack.balance(c.accountId)).toBe(100_000 - 600);
    tally.held('replay-after-clock-set-back');
  });
});

/** A code's 198 bytes, to change and re-encode. */
function bytesOf(code: string): Buffer {
  const bytes = decodeBase45(code.slice(4));
  if (bytes === null) throw new Error('not a PC1 code');
  return Buffer.from(bytes);
}

describe('forged and tampered codes', () => {
  it('forged: a certificate signed by an attacker key under a trusted kid, or under an unknown kid', async () => {
    const victim = await customer(s);
    const attacker = generateEd25519();
    const phoneKey = generateEd25519();
    const forge = (kid: number) => {
      const certificate = issueCertificate(attacker.seed, {
        kid,
        accountId: victim.accountId,
        deviceId: victim.phone.deviceId,
        devicePublicKey: phoneKey.publicKey,
        offlineLimit: 1_000_000,
        enrolledAt: s.clock.sec - 90 * 86_400,
        expiresAt: s.clock.sec + 365 * 86_400,
      });
      return makePayCode(certificate, phoneKey.seed, 1_000_000, s.clock.sec);
    };
    for (const online of [true, false]) {
      if (!online) await s.goOffline();
      tally.tried(2);
      expectRefused(
        s.stack,
        await attempt(s.stack, 0, 900, forge(victim.phone.enrollment.kid)),
        'bad_certificate_signature',
      );
      expectRefused(s.stack, await attempt(s.stack, 0, 900, forge(200)), 'unknown_issuer_key');
    }
    expect(await s.stack.balance(victim.accountId)).toBe(100_000);
    tally.held('forged-code');
  });

  it('tampered: a raised offline limit, a changed account, a changed counter or time, a flipped signature bit', async () => {
    const victim = await customer(s);
    const other = await customer(s);
    const tamper = (change: (bytes: Buffer) => void) => {
      const bytes = bytesOf(victim.code());
      change(bytes);
      return formatPc1(bytes);
    };
    const cases: [string, (b: Buffer) => void, string][] = [
      ['offline limit', (b) => b.writeUInt32BE(0xffffffff, 50), 'bad_certificate_signature'],
      ['account', (b) => Buffer.from(other.accountId, 'hex').copy(b, 2), 'bad_certificate_signature'],
      ['counter', (b) => b.writeUInt32BE(b.readUInt32BE(126) + 1000, 126), 'bad_code_signature'],
      ['issue time', (b) => b.writeUInt32BE(b.readUInt32BE(130) + 1, 130), 'bad_code_signature'],
      ['device signature', (b) => (b[150]! ^= 0x01), 'bad_code_signature'],
      ['issuer signature', (b) => (b[100]! ^= 0x80), 'bad_certificate_signature'],
    ];
    for (const online of [true, false]) {
      if (!online) await s.goOffline();
      for (const [, change, reason] of cases) {
        tally.tried();
        expectRefused(s.stack, await attempt(s.stack, 0, 700, tamper(change)), reason);
      }
    }
    // A truncated or re-prefixed code is malformed before any signature is looked at.
    const good = victim.code();
    for (const bad of [good.slice(0, -3), `PC2:${good.slice(4)}`, `${good}AA`]) {
      tally.tried();
      expectRefused(s.stack, await attempt(s.stack, 0, 700, bad), 'malformed_code');
    }
    expect(await s.stack.balance(victim.accountId)).toBe(100_000);
    tally.held('tampered-code');
  });

  it('expired and future-dated: a stale screenshot, a code from a phone clock ahead, an expired certificate', async () => {
    const c = await customer(s);
    const expired = await customer(s, { expiresAt: s.clock.sec - 1 });
    for (const online of [true, false]) {
      if (!online) await s.goOffline();
      tally.tried(4);
      expectRefused(
        s.stack,
        await attempt(s.stack, 0, 200, c.phone.nextCode(s.clock.sec - 121)),
        'code_expired',
      );
      expectRefused(
        s.stack,
        await attempt(s.stack, 0, 200, c.phone.nextCode(s.clock.sec + 31)),
        'code_from_future',
      );
      expectRefused(s.stack, await attempt(s.stack, 0, 200, expired.code()), 'certificate_expired');
      // At the bounds the same phone is fine (120 s old, 30 s ahead): the declines above are the bounds, not noise.
      const atBound = await attempt(s.stack, 0, 200, c.phone.nextCode(s.clock.sec - 120));
      expect(atBound.state).toBe('approved');
    }
    expect(await s.stack.balance(expired.accountId)).toBe(100_000);
    tally.held('expired-code');
    tally.held('future-dated-code');
  });
});

describe('risk feed', () => {
  it('a code of a frozen account: declined online by the wallet, and offline once the feed has it', async () => {
    const c = await customer(s);
    await s.stack.admin('POST', `/v1/sandbox/accounts/${c.accountId}/freeze`);
    tally.tried();
    const online = await attempt(s.stack, 0, 300, c.code());
    expect(online).toMatchObject({ state: 'declined', decision: { approved: false } });
    expect((await s.pollFeed()).map((e) => e.type)).toContain('account_frozen');
    tally.tried(2);
    expectRefused(s.stack, await attempt(s.stack, 0, 300, c.code()), 'account_frozen');
    await s.goOffline();
    expectRefused(s.stack, await attempt(s.stack, 1, 300, c.code()), 'account_frozen');
    expect(await s.stack.balance(c.accountId)).toBe(100_000);
    tally.held('frozen-account');
  });

  it('a code of a revoked device: declined online, and offline once the feed has it', async () => {
    const c = await customer(s);
    await s.stack.admin('POST', `/v1/sandbox/devices/${c.phone.deviceId}/revoke`);
    tally.tried();
    expect(await attempt(s.stack, 0, 300, c.code())).toMatchObject({ state: 'declined' });
    expect((await s.pollFeed()).map((e) => e.type)).toContain('device_revoked');
    await s.goOffline();
    tally.tried();
    expectRefused(s.stack, await attempt(s.stack, 1, 300, c.code()), 'device_revoked');
    expect(await s.stack.balance(c.accountId)).toBe(100_000);
    tally.held('revoked-device');
  });
});
