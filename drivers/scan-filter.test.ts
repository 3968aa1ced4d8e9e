// Driver-boundary checks (dedupe window, lengths, symbologies, control characters) and log masking.
import { describe, expect, it } from 'vitest';
import type { DecodedScan } from './decoded-scan.js';
import { maskScanText, ScanFilter, type ScanFilterOptions } from './scan-filter.js';
import { PC1_CODE } from './scanner-contract.case.js';

const defaults: ScanFilterOptions = {
  dedupeWindowMs: 1000,
  minLength: 4,
  maxLength: 2048,
  allowGroupSeparator: true,
};

function scan(text: string, symbology: DecodedScan['symbology'] = 'qr'): DecodedScan {
  const label = Buffer.from(text, 'utf8');
  return { raw: label, label, text, symbology };
}

describe('ScanFilter', () => {
  it('ignores a double read within the window, sliding while the code keeps being read', () => {
    const filter = new ScanFilter(defaults);
    expect(filter.check(scan('PC1:AAAA'), 0).accepted).toBe(true);
    expect(filter.check(scan('PC1:AAAA'), 500)).toMatchObject({ accepted: false, reason: 'duplicate' });
    expect(filter.check(scan('PC1:AAAA'), 1400)).toMatchObject({ accepted: false, reason: 'duplicate' });
    expect(filter.check(scan('PC1:BBBB'), 1450).accepted).toBe(true);
    expect(filter.check(scan('PC1:AAAA'), 2401).accepted).toBe(true);
  });

  it('can turn the window off', () => {
    const filter = new ScanFilter({ ...defaults, dedupeWindowMs: 0 });
    expect(filter.check(scan('PC1:AAAA'), 0).accepted).toBe(true);
    expect(filter.check(scan('PC1:AAAA'), 0).accepted).toBe(true);
  });

  it('remembers a bounded number of codes', () => {
    const filter = new ScanFilter({ ...defaults, dedupeWindowMs: 60_000 });
    for (let i = 0; i < 100; i++) expect(filter.check(scan(`CODE-${i}`), i).accepted).toBe(true);
    expect(filter.check(scan('CODE-99'), 100).accepted).toBe(false);
    expect(filter.check(scan('CODE-0'), 101).accepted).toBe(true); // forgotten: the bound held
  });

  it('checks length in characters, symbology, and control characters (GS allowed for GS1)', () => {
    const filter = new ScanFilter({
      ...defaults,
      minLength: 4,
      maxLength: 8,
      allowedSymbologies: ['qr', 'gs1-128'],
    });
    expect(filter.validate(scan('abc'))).toMatchObject({ reason: 'too_short' });
    expect(filter.validate(scan('abcdefghi'))).toMatchObject({ reason: 'too_long' });
    expect(filter.validate(scan('ÄÖÜßäöü')).accepted).toBe(true);
    // Lengths count characters, not UTF-16 units: eight astral characters are 16 units and fit; nine do not.
    expect(filter.validate(scan('😀'.repeat(8))).accepted).toBe(true);
    expect(filter.validate(scan('😀'.repeat(9)))).toMatchObject({ reason: 'too_long' });
    expect(filter.validate(scan('😀😀😀'))).toMatchObject({ reason: 'too_short' });
    expect(filter.validate(scan('49012345', 'ean-upc'))).toMatchObject({ reason: 'symbology_not_allowed' });
    expect(filter.validate(scan('ab\u001dcd', 'gs1-128')).accepted).toBe(true);
    expect(filter.validate(scan('ab\rcd'))).toMatchObject({ reason: 'control_character' });
    expect(filter.validate(scan('ab\u007fcd'))).toMatchObject({ reason: 'control_character' });
    const strict = new ScanFilter({ ...defaults, allowGroupSeparator: false });
    expect(strict.validate(scan('ab\u001dcd'))).toMatchObject({ reason: 'control_character' });
  });

  it('does not count a rejected read as seen', () => {
    const filter = new ScanFilter({ ...defaults, minLength: 4 });
    expect(filter.check(scan('ab\u0001cd'), 0).accepted).toBe(false);
    expect(filter.check(scan('abcd'), 1).accepted).toBe(true);
  });
});

describe('maskScanText', () => {
  it('keeps a known prefix, the last four characters and the length', () => {
    expect(maskScanText(PC1_CODE)).toBe(`PC1:…${PC1_CODE.slice(-4)} (301 chars)`);
    expect(maskScanText('88123456789012345678')).toBe('…5678 (20 chars)');
  });

  it('shows nothing of a short code', () => {
    expect(maskScanText('PC1:ABCD')).toBe('PC1:… (8 chars)');
    expect(maskScanText('12345678')).toBe('… (8 chars)');
  });
});
