// The public pay-code vectors (../shared/vectors/paycode-v1.json): the codec must agree with every case.
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../../test/support/vectors.js';
import { parsePc1 } from './pc1.js';
import { checkPayCode, IssuerKeyRing } from './verify.js';

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
});
