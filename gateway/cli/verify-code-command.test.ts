// `tillgate verify-code` against the public vectors: every case's outcome, the fields of the valid one,
// and how the keys are found or fail to be.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadVectors } from '../../test/support/vectors.js';
import { cli, deadUrl, printed } from './test-io.js';

const file = loadVectors();
const dir = mkdtempSync(join(tmpdir(), 'tillgate-verify-code-'));
const keysFile = join(dir, 'keys.json');
writeFileSync(keysFile, JSON.stringify(file.issuerKeys));
const now = String(file.now);
const valid = file.cases.find((c) => c.name === 'valid')!;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tillgate verify-code', () => {
  for (const c of file.cases) {
    it(`${c.name} → ${c.expect}`, async () => {
      const result = await cli(['verify-code', '--keys', keysFile, '--now', now, '--', c.code]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(printed(result).outcome).toBe(c.expect);
    });
  }

  it('prints the fields of the code and no failing check for a valid code', async () => {
    const result = printed(await cli(['verify-code', '--keys', keysFile, '--now', now, valid.code]));
    expect(result).toMatchObject({ ...valid.fields, outcome: 'valid', version: 1, now: file.now });
    expect(result.check).toBeUndefined();
    expect(result.devicePublicKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the number of the first failing check', async () => {
    const expired = file.cases.find((c) => c.expect === 'code_expired')!;
    const result = printed(await cli(['verify-code', '--keys', keysFile, '--now', now, expired.code]));
    expect(result).toMatchObject({ outcome: 'code_expired', check: 6, deviceId: valid.fields!.deviceId });
    const malformed = printed(await cli(['verify-code', '--keys', keysFile, 'PC1:nonsense']));
    expect(malformed).toEqual({ outcome: 'malformed_code', check: 1, now: expect.any(Number) });
  });

  it('reads the code from stdin for -, spaces and all', async () => {
    const result = await cli(['verify-code', '--keys', keysFile, '--now', now, '-'], {
      stdin: `${valid.code}\n`,
    });
    expect(printed(result).outcome).toBe('valid');
  });

  it('declines as unknown_issuer_key when it has no keys at all, and says why on stderr', async () => {
    const result = await cli(['verify-code', '--data', dir, '--now', now, valid.code]);
    expect(result.status).toBe(0);
    expect(printed(result)).toMatchObject({ outcome: 'unknown_issuer_key', check: 2 });
    expect(result.stderr).toBe(`no issuer keys: no --keys, no --wallet and no demo.json in ${dir}\n`);
  });

  it('exits 1 for a keys file it cannot read or understand', async () => {
    const missing = await cli(['verify-code', '--keys', join(dir, 'none.json'), valid.code]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^tillgate verify-code: cannot read the keys file .*none\.json: ENOENT/);
    const wrongShape = join(dir, 'wrong.json');
    writeFileSync(wrongShape, JSON.stringify({ kid: 7 }));
    const wrong = await cli(['verify-code', '--keys', wrongShape, valid.code]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/is not a list of \[\{kid, publicKey\}\]/);
    expect(wrong.stdout).toBe('');
  });

  it('exits 1 when the wallet asked for the keys cannot be reached', async () => {
    const url = await deadUrl();
    const result = await cli(['verify-code', '--wallet', url, '--admin-key', 'k', valid.code]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^tillgate verify-code: cannot get the issuer keys from ${url}: .+\n$`),
    );
  });

  it('exits 2 for bad usage', async () => {
    for (const argv of [
      ['verify-code'],
      ['verify-code', valid.code, 'extra'],
      ['verify-code', '--now', 'yesterday', valid.code],
      ['verify-code', '--keys', keysFile, '--wallet', 'http://127.0.0.1:9', valid.code],
      ['verify-code', '--wallet', 'http://127.0.0.1:9', '--data', dir, valid.code],
    ]) {
      const result = await cli(argv);
      expect(result.status, argv.join(' ')).toBe(2);
      expect(result.stderr).toContain('Usage: tillgate verify-code');
    }
  });
});
