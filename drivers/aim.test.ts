// AIM identifiers and vendor Code IDs → symbologies.
import { describe, expect, it } from 'vitest';
import { readAimId, splitAim, symbologyFromAim, symbologyFromCodeId } from './aim.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('AIM identifiers', () => {
  it('reads "]" + code character + modifier at the start of a frame', () => {
    expect(readAimId(bytes(']Q1PC1:ABC'))).toEqual({ aimId: ']Q1', length: 3 });
    expect(readAimId(bytes(']d2010'))).toEqual({ aimId: ']d2', length: 3 });
    expect(readAimId(bytes(']Y2ABCdata'))).toEqual({ aimId: ']Y2ABC', length: 6 });
  });

  it('finds none where the frame does not start with one', () => {
    for (const text of ['PC1:ABC', ']', ']Q', ']1A', ']Q-', ' ]Q1', ']Y9AB'])
      expect(readAimId(bytes(text))).toBeUndefined();
  });

  it('maps code characters to symbologies, GS1-128 by its modifier', () => {
    expect(symbologyFromAim(']Q1')).toBe('qr');
    expect(symbologyFromAim(']Q3')).toBe('qr');
    expect(symbologyFromAim(']C0')).toBe('code128');
    expect(symbologyFromAim(']C1')).toBe('gs1-128');
    expect(symbologyFromAim(']E0')).toBe('ean-upc');
    expect(symbologyFromAim(']A0')).toBe('code39');
    expect(symbologyFromAim(']I1')).toBe('itf');
    expect(symbologyFromAim(']d2')).toBe('datamatrix');
    expect(symbologyFromAim(']L0')).toBe('pdf417');
    expect(symbologyFromAim(']z0')).toBe('aztec');
    expect(symbologyFromAim(']F0')).toBe('other');
    expect(symbologyFromAim(']W0')).toBe('unknown');
  });

  it('maps Honeywell Code IDs as the fallback', () => {
    expect(symbologyFromCodeId('s')).toBe('qr');
    expect(symbologyFromCodeId('j')).toBe('code128');
    expect(symbologyFromCodeId('I')).toBe('gs1-128');
    expect(symbologyFromCodeId('?')).toBe('unknown');
    expect(symbologyFromCodeId(undefined)).toBe('unknown');
  });

  it('splits the prefix per mode: auto, required, none', () => {
    expect(splitAim(bytes(']Q1ABC'), 'auto')).toMatchObject({ aimId: ']Q1', label: bytes('ABC') });
    expect(splitAim(bytes('ABC'), 'auto')).toEqual({ label: bytes('ABC') });
    expect(splitAim(bytes('ABC'), 'required')).toEqual({ missingAim: true });
    expect(splitAim(bytes(']Q1ABC'), 'none')).toEqual({ label: bytes(']Q1ABC') });
  });
});
