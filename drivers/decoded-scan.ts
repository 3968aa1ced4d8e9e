// What the pure decoders (wedge, HID POS, serial) hand to the transport shells: a decoded scan, or the
// reason a read was thrown away. The shells add device id, transport and time to make a `Scan`.
import { type AimPrefixMode, splitAim, symbologyFromAim, symbologyFromCodeId } from './aim.js';
import type { Symbology } from './scanner.js';

export interface DecodedScan {
  raw: Uint8Array;
  label: Uint8Array;
  text: string;
  aimId?: string;
  symbology: Symbology;
}

export type RejectReason =
  | 'truncated' // a scan started but did not finish (inter-key / inter-report timeout, or a new scan began)
  | 'too_long' // over the per-scan byte or character cap; the whole scan is dropped
  | 'malformed' // a report or key that cannot be part of a scan
  | 'bad_encoding' // label bytes are not valid UTF-8
  | 'missing_aim' // an AIM identifier was required and absent
  | 'human_typing' // keyboard input too slow to be a scanner
  | 'layout_mismatch'; // the scanner's keyboard country differs from the configured layout

export type DecoderEvent =
  | { kind: 'scan'; scan: DecodedScan }
  | {
      kind: 'rejected';
      reason: RejectReason;
      /** Human-readable, never containing scan contents. */
      message: string;
      /** For layout mismatches: the layout the scanner seems to use. */
      likelyLayout?: string;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes label bytes as UTF-8; a label that is not valid UTF-8 is rejected, never repaired. */
export function labelText(label: Uint8Array): string | undefined {
  try {
    return utf8.decode(label);
  } catch {
    return undefined;
  }
}

/** Builds the decoder event for one complete frame: AIM split, text decoding, symbology. */
export function scanFromFrame(
  raw: Uint8Array,
  body: Uint8Array,
  options: { aimPrefix: AimPrefixMode; codeId?: string; aimId?: string },
): DecoderEvent {
  let aimId = options.aimId;
  let label = body;
  if (aimId === undefined) {
    const split = splitAim(body, options.aimPrefix);
    if ('missingAim' in split) {
      return {
        kind: 'rejected',
        reason: 'missing_aim',
        message: 'no AIM symbology identifier before the label',
      };
    }
    aimId = split.aimId;
    label = split.label;
  }
  const text = labelText(label);
  if (text === undefined) {
    return {
      kind: 'rejected',
      reason: 'bad_encoding',
      message: `label of ${label.length} bytes is not UTF-8`,
    };
  }
  let symbology: Symbology = aimId === undefined ? 'unknown' : symbologyFromAim(aimId);
  if (symbology === 'unknown') symbology = symbologyFromCodeId(options.codeId);
  const scan: DecodedScan = { raw, label, text, symbology };
  if (aimId !== undefined) scan.aimId = aimId;
  return { kind: 'scan', scan };
}

/** A decoder fed one input unit (report, chunk) at a time, with a timeout driven by its caller. */
export interface ReportDecoder {
  push(report: Uint8Array, atMs: number): DecoderEvent[];
  /** Applies the timeout as of `atMs`. */
  tick(atMs: number): DecoderEvent[];
  /** When `tick` has something to do, if ever. */
  nextDeadlineMs(): number | undefined;
  /** Forgets any unfinished scan (unplug). */
  reset(): void;
}

/**
 * Pushes a report after first running the timeout that came due before it, as the transport shells'
 * timers do: for captures and tests, where time is given rather than waited for.
 */
export function pushOnTime(decoder: ReportDecoder, report: Uint8Array, atMs: number): DecoderEvent[] {
  const deadlineMs = decoder.nextDeadlineMs();
  const due = deadlineMs !== undefined && deadlineMs <= atMs ? decoder.tick(deadlineMs) : [];
  return [...due, ...decoder.push(report, atMs)];
}
