// The public pay-code vectors (../shared/vectors/paycode-v1.json): the codec must agree with every case.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePc1 } from './pc1.js';
import { checkPayCode, IssuerKeyRing } from './verify.js';

interface VectorFile {
  now: number;
  issuerKeys: { kid: number; publicKey: string }[];
  cases: { name: string; code: string; expect: string; fields?: Record<string, string | number> }[];
}

export function findVectors(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../shared/vectors/paycode-v1.json'), resolve(here, '../../test/vectors/paycode-v1.json')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`paycode-v1.json not found in ${candidates.join(' or ')}`);
  return found;
}

const file = JSON.parse(readFileSync(findVectors(), 'utf8')) as VectorFile;
const options = { keys: new IssuerKeyRing(file.issuerKeys), now: file.now, maxCodeAgeSec: 120, maxClockSkewSec: 30 };

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
