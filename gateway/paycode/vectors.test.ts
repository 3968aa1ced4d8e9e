// The public pay-code vectors (../shared/vectors/paycode-v1.json): the codec must agree with every case.
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../../test/support/vectors.js';
import { generateEd25519 } from './ed25519.js';
import { parsePc1 } from './pc1.js';
import { checkPayCode, checkPayCodeAsync, IssuerKeyRing } from './verify.js';

const file = loadVectors();
const options = {
  keys: new IssuerKeyRing(file.issuerKeys),
  now: file.now,
  maxCodeAgeSec: 120,
  maxClockSkewSec: 30,
};

describe('paycode-v1 vectors', () => {
  it('has cases', () => expect(file.cases.length).toBeGreaterThan(10));

  for (const c of file.cases) {
    it(`${c.name} → ${c.expect}`, () => {
      expect(checkPayCode(c.code, options).outcome).toBe(c.expect);
    });
    it(`${c.name} → ${c.expect}, verified on the thread pool`, async () => {
      expect((await checkPayCodeAsync(c.code, options)).outcome).toBe(c.expect);
    });
  }

  it('decodes the fields of the valid case', () => {
    const valid = file.cases.find((c) => c.name === 'valid')!;
    const code = parsePc1(valid.code)!;
    expect(valid.code).toHaveLength(301);
    expect({
      kid: code.certificate.kid,
      accountId: code.certificate.accountId,
      deviceId: code.certificate.deviceId,
      counter: code.counter,
      issuedAt: code.issuedAt,
      offlineLimit: code.certificate.offlineLimit,
    }).toEqual(valid.fields);
  });

  it('gives every case the same outcome again, in reverse order, with verified certificates remembered', () => {
    for (const c of [...file.cases].reverse())
      expect(checkPayCode(c.code, options).outcome, c.name).toBe(c.expect);
  });

  it('refuses a remembered certificate under another key for its kid', async () => {
    const valid = file.cases.find((c) => c.name === 'valid')!;
    expect(checkPayCode(valid.code, options).outcome).toBe('valid');
    const kid = parsePc1(valid.code)!.certificate.kid;
    const replaced = new IssuerKeyRing([{ kid, publicKey: generateEd25519().publicKey.toString('hex') }]);
    expect(checkPayCode(valid.code, { ...options, keys: replaced }).outcome).toBe(
      'bad_certificate_signature',
    );
    expect((await checkPayCodeAsync(valid.code, { ...options, keys: replaced })).outcome).toBe(
      'bad_certificate_signature',
    );
    expect(checkPayCode(valid.code, options).outcome).toBe('valid');
  });
});
