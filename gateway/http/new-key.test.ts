// Keys made by newKey (register and operator keys from `tillgate keygen`, the wallet's admin and store keys): a
// prefix naming the kind, then 32 random bytes; never a leading `-`, which a command line reads as an option (one
// random base64url key in 64 used to begin with one).
import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../cli/args.js';
import { newKey } from './auth.js';

describe('newKey', () => {
  it('prefixes the kind, then 43 base64url characters, different every time', () => {
    const made = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const admin = newKey('adm_');
      const store = newKey('sk_');
      expect(admin).toMatch(/^adm_[A-Za-z0-9_-]{43}$/);
      expect(store).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
      made.add(admin).add(store);
    }
    expect(made.size).toBe(4_000);
  });

  it('can always be passed as an option value on the command line', () => {
    const options = { 'admin-key': { type: 'string' } } as const;
    for (let i = 0; i < 500; i++) {
      const key = newKey('adm_');
      expect(parseCommandArgs(['--admin-key', key], options).values['admin-key']).toBe(key);
    }
    // What 1 in 64 of the old unprefixed keys did: refused as an ambiguous option value (exit 2).
    expect(() => parseCommandArgs(['--admin-key', '-abc'], options)).toThrow(/ambiguous/);
  });
});
