// Payment safety at the driver boundary, pure: which decoded scans may reach the gateway (allowed
// symbologies, length, no control characters, no double read of the same code within a window), and
// the masked form in which a scan may appear in logs.
import { hash } from 'node:crypto';
import type { DecodedScan } from './decoded-scan.js';
import type { Symbology } from './scanner.js';

export interface ScanFilterOptions {
  /** A read of the same code within this long after the previous read of it is a double read. 0 = off. */
  dedupeWindowMs: number;
  /** Symbologies accepted; undefined accepts all. */
  allowedSymbologies?: readonly Symbology[];
  minLength: number;
  maxLength: number;
  /** Let GS (0x1D), the GS1 field separator, through; every other control character is rejected. */
  allowGroupSeparator: boolean;
}

export type FilterReason =
  | 'duplicate'
  | 'symbology_not_allowed'
  | 'too_short'
  | 'too_long'
  | 'control_character';

export type FilterVerdict = { accepted: true } | { accepted: false; reason: FilterReason; message: string };

/** Recent codes remembered for the dedupe window; a bound, not a tuning knob. */
const MAX_REMEMBERED_CODES = 64;
const GROUP_SEPARATOR = 0x1d;

export class ScanFilter {
  readonly #options: ScanFilterOptions;
  /** SHA-256 of recent labels → when last read. Digests, so the filter never holds a code. */
  readonly #lastSeenMs = new Map<string, number>();

  constructor(options: ScanFilterOptions) {
    this.#options = options;
  }

  check(scan: DecodedScan, atMs: number): FilterVerdict {
    const verdict = this.validate(scan);
    if (!verdict.accepted) return verdict;
    return this.#dedupe(scan.label, atMs);
  }

  /** Every check except the double-read window. */
  validate(scan: DecodedScan): FilterVerdict {
    const { allowedSymbologies, minLength, maxLength, allowGroupSeparator } = this.#options;
    const control = controlCharacterAt(scan.label, allowGroupSeparator);
    if (control >= 0) {
      const code = scan.label[control]!.toString(16).padStart(2, '0');
      return reject('control_character', `control character 0x${code} at offset ${control}`);
    }
    const length = codePoints(scan.text);
    if (length < minLength) return reject('too_short', `${length} characters, fewer than ${minLength}`);
    if (length > maxLength) return reject('too_long', `${length} characters, more than ${maxLength}`);
    if (allowedSymbologies !== undefined && !allowedSymbologies.includes(scan.symbology)) {
      return reject('symbology_not_allowed', `symbology ${scan.symbology} is not allowed`);
    }
    return { accepted: true };
  }

  #dedupe(label: Uint8Array, atMs: number): FilterVerdict {
    const windowMs = this.#options.dedupeWindowMs;
    if (windowMs <= 0) return { accepted: true };
    for (const [digest, seenMs] of this.#lastSeenMs) {
      if (atMs - seenMs >= windowMs) this.#lastSeenMs.delete(digest);
    }
    const digest = hash('sha256', label, 'base64');
    const seenMs = this.#lastSeenMs.get(digest);
    // Sliding: a code held in front of a presentation scanner stays a duplicate while it is re-read.
    this.#lastSeenMs.delete(digest);
    this.#lastSeenMs.set(digest, atMs);
    if (this.#lastSeenMs.size > MAX_REMEMBERED_CODES) {
      this.#lastSeenMs.delete(this.#lastSeenMs.keys().next().value!);
    }
    if (seenMs !== undefined) return reject('duplicate', `same code read again after ${atMs - seenMs} ms`);
    return { accepted: true };
  }
}

function controlCharacterAt(label: Uint8Array, allowGroupSeparator: boolean): number {
  for (let i = 0; i < label.length; i++) {
    const byte = label[i]!;
    if ((byte < 0x20 || byte === 0x7f) && !(allowGroupSeparator && byte === GROUP_SEPARATOR)) return i;
  }
  return -1;
}

/** Characters as a person counts them (code points, as `[...text].length`), without making the array. */
function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

function reject(reason: FilterReason, message: string): FilterVerdict {
  return { accepted: false, reason, message };
}

/** Masked form of scan text for logs: a short known prefix, the last 4 characters, the length. */
export function maskScanText(text: string): string {
  const chars = [...text];
  const prefix = /^[A-Z][A-Z0-9]{1,3}:/.exec(text)?.[0] ?? '';
  const tail = chars.length >= prefix.length + 12 ? chars.slice(-4).join('') : '';
  return `${prefix}…${tail} (${chars.length} chars)`;
}

/** The fields of a scan that may be logged. */
export function scanLogFields(
  scan: Pick<DecodedScan, 'text' | 'symbology' | 'aimId'>,
): Record<string, unknown> {
  return { code: maskScanText(scan.text), symbology: scan.symbology, aimId: scan.aimId };
}
