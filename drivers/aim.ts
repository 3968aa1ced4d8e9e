// AIM symbology identifiers (ISO/IEC 15424: "]" + code character + modifier) and the vendor "Code ID"
// byte of HID POS reports, mapped to the normalised Symbology of the scanner contract.
import type { Symbology } from './scanner.js';

const AIM_FLAG = 0x5d; // ']'

/** Code character → symbology. `C` and `Q` depend on the modifier too (see symbologyFromAim). */
const AIM_CODE: Record<string, Symbology> = {
  A: 'code39',
  C: 'code128',
  E: 'ean-upc',
  I: 'itf',
  L: 'pdf417',
  Q: 'qr',
  d: 'datamatrix',
  z: 'aztec',
  // Known but not singled out by the contract.
  F: 'other', // Codabar
  G: 'other', // Code 93
  H: 'other', // Code 11
  J: 'other', // DotCode
  K: 'other', // Code 16K
  M: 'other', // MSI
  O: 'other', // Codablock
  P: 'other', // Plessey
  S: 'other', // 2 of 5 (industrial)
  U: 'other', // MaxiCode
  X: 'other', // other bar code
  Y: 'other', // system expansion
  Z: 'other', // non-bar-code
  e: 'other', // GS1 DataBar and composites
  o: 'other', // OCR
};

/** Honeywell / Hand Held Products "Code ID" characters (byte 61 of a HID POS report). */
const HONEYWELL_CODE_ID: Record<string, Symbology> = {
  s: 'qr',
  d: 'ean-upc',
  D: 'ean-upc',
  c: 'ean-upc',
  E: 'ean-upc',
  j: 'code128',
  I: 'gs1-128',
  b: 'code39',
  w: 'datamatrix',
  r: 'pdf417',
  z: 'aztec',
};

export function symbologyFromAim(aimId: string): Symbology {
  const code = aimId[1] ?? '';
  if (code === 'C' && aimId[2] === '1') return 'gs1-128';
  return AIM_CODE[code] ?? 'unknown';
}

export function symbologyFromCodeId(codeId: string | undefined): Symbology {
  if (codeId === undefined) return 'unknown';
  return HONEYWELL_CODE_ID[codeId] ?? 'unknown';
}

function isLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

function isAlnum(byte: number): boolean {
  return isLetter(byte) || (byte >= 0x30 && byte <= 0x39);
}

/**
 * Reads an AIM identifier at the start of `bytes`, if there is one: `]`, a letter, then one
 * alphanumeric modifier (`]Y` announces `digit + 1` modifier characters).
 * Returns its text and length in bytes, or undefined.
 */
export function readAimId(bytes: Uint8Array): { aimId: string; length: number } | undefined {
  if (bytes.length < 3 || bytes[0] !== AIM_FLAG || !isLetter(bytes[1]!)) return undefined;
  let length = 3;
  if (bytes[1] === 0x59 /* Y */) {
    const digit = bytes[2]! - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    length = 3 + digit + 1;
    if (bytes.length < length) return undefined;
  }
  for (let i = 2; i < length; i++) if (!isAlnum(bytes[i]!)) return undefined;
  return { aimId: Buffer.from(bytes.subarray(0, length)).toString('latin1'), length };
}

export type AimPrefixMode = 'auto' | 'required' | 'none';

/** Splits a frame into its AIM identifier (when `mode` allows one) and the label after it. */
export function splitAim(
  bytes: Uint8Array,
  mode: AimPrefixMode,
): { aimId?: string; label: Uint8Array } | { missingAim: true } {
  if (mode === 'none') return { label: bytes };
  const aim = readAimId(bytes);
  if (aim === undefined) return mode === 'required' ? { missingAim: true } : { label: bytes };
  return { aimId: aim.aimId, label: bytes.subarray(aim.length) };
}
