// `tillgate keygen`: a fresh key each time, with the prefix of its kind, and the SHA-256 the config keeps; a gateway
// accepts the key whose hash its config holds (test/key-rotation.test.ts uses such keys while rotating).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cli, printed } from './test-io.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('tillgate keygen', () => {
  it('--json prints a new register key and its SHA-256', async () => {
    const first = await cli(['keygen', '--json']);
    const second = await cli(['keygen', '--for', 'register', '--json']);
    for (const result of [first, second]) {
      expect(result).toMatchObject({ status: 0, stderr: '' });
      const { key, keySha256 } = printed(result);
      expect(key).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
      expect(keySha256).toBe(sha256(key));
    }
    expect(printed(first).key).not.toBe(printed(second).key);
  });

  it('makes operator keys, and says in words where each part goes', async () => {
    const result = await cli(['keygen', '--for', 'operator']);
    expect(result.status).toBe(0);
    const match = /^operator key {2}(op_[A-Za-z0-9_-]{43})\nkeySha256 {5}([0-9a-f]{64})\n\n(.*)\n$/.exec(
      result.stdout,
    );
    expect(match, result.stdout).not.toBeNull();
    expect(match![2]).toBe(sha256(match![1]!));
    expect(match![3]).toBe('Give the key to the operator; put keySha256 in operators[].keySha256.');
  });

  it('refuses an unknown kind as bad usage', async () => {
    const result = await cli(['keygen', '--for', 'store']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^tillgate keygen: --for must be register or operator\n\nUsage: tillgate keygen/,
    );
  });
});
