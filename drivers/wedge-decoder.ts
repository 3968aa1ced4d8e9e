// Keyboard-wedge decoding, pure: 8-byte boot keyboard reports with their arrival time → key presses
// (press edges, so "11" needs a release in between) → scans ended by a suffix key or a pause.
// Tells a scanner from a person by key timing and a US-set scanner on a JIS host by what it types.
import type { AimPrefixMode } from './aim.js';
import { type DecoderEvent, scanFromFrame } from './decoded-scan.js';
import {
  charCodeTable,
  charTableIndex,
  isKeypadUsage,
  type KeyboardLayoutName,
  keyboardLayout,
  USAGE,
} from './keyboard-layouts.js';

export type WedgeSuffix = 'enter' | 'tab' | 'none';

export interface WedgeDecoderOptions {
  layout: KeyboardLayoutName;
  suffix: WedgeSuffix;
  /** A pause longer than this ends a scan (suffix `none`) or discards the unfinished one. */
  interKeyTimeoutMs: number;
  /** Average gap between key presses above which the input is a person typing, not a scanner. */
  maxAvgKeyIntervalMs: number;
  /** Bound on the characters of one scan; a longer one is dropped whole. */
  maxScanChars: number;
  aimPrefix: AimPrefixMode;
}

export interface KeyPress {
  usage: number;
  shift: boolean;
  capsLock: boolean;
  /** A control character typed as a Ctrl chord (GS as Ctrl+] in GS1 codes). */
  control?: string;
  atMs: number;
}

const MOD_CTRL = 0x11;
const MOD_SHIFT = 0x22;
const MOD_ALT_GUI = 0xcc;
const ERROR_ROLL_OVER = 0x01;
const GROUP_SEPARATOR = 0x1d;
const RIGHT_BRACKET = 0x5d;
/** Key slots of a boot keyboard report (bytes 2–7). */
const KEY_SLOTS = 6;

export class WedgeDecoder {
  readonly #options: WedgeDecoderOptions;
  readonly #chars: Int16Array;
  readonly #otherChars: Int16Array;
  /** The usages held down in the last report, and the report being read (swapped, never reallocated). */
  #held = new Uint8Array(KEY_SLOTS);
  #heldCount = 0;
  #down = new Uint8Array(KEY_SLOTS);
  #capsLock = false;
  #numLock = true;
  /**
   * The unfinished scan, decoded as each key is pressed rather than all at once when it ends (the end is what the
   * cashier waits for): its characters on the configured layout and on the other one (for the layout check), the
   * keys that gave none on each, and the time of its first and last key.
   */
  readonly #typed: TypedBuffer;
  readonly #otherTyped: TypedBuffer;
  #keyCount = 0;
  #firstKeyAtMs = 0;
  #lastStoredAtMs = 0;
  #overflow = false;
  /** After a timeout drop: skipping what may be the rest of the dropped scan. */
  #resyncing = false;
  #lastKeyAtMs = 0;

  constructor(options: WedgeDecoderOptions) {
    this.#options = options;
    this.#chars = charCodeTable(options.layout);
    this.#otherChars = charCodeTable(options.layout === 'us' ? 'jp106' : 'us');
    this.#typed = new TypedBuffer(options.maxScanChars);
    this.#otherTyped = new TypedBuffer(options.maxScanChars);
  }

  /** Feeds one report (8 bytes, or 9 with a leading report ID) received at `atMs`. */
  push(report: Uint8Array, atMs: number): DecoderEvent[] {
    const events = this.tick(atMs);
    const offset = report.length === 9 ? 1 : 0;
    if (report.length - offset !== 8) return events;
    for (let i = offset + 2; i < offset + 8; i++) {
      if (report[i] === ERROR_ROLL_OVER) return events; // phantom state: too many keys at once
    }
    const modifiers = report[offset]!;
    const down = this.#down;
    let downCount = 0;
    for (let i = offset + 2; i < offset + 8; i++) {
      const usage = report[i]!;
      if (usage !== 0 && !includes(down, downCount, usage)) down[downCount++] = usage;
    }
    const held = this.#held;
    const heldCount = this.#heldCount;
    this.#held = down;
    this.#heldCount = downCount;
    this.#down = held;
    for (let i = 0; i < downCount; i++) {
      const usage = down[i]!;
      if (!includes(held, heldCount, usage)) this.#press(usage, modifiers, atMs, events); // press edges only
    }
    return events;
  }

  /** Applies the inter-key timeout as of `atMs`. Call it when `nextDeadlineMs()` passes. */
  tick(atMs: number): DecoderEvent[] {
    if (!this.#pending() || atMs - this.#lastKeyAtMs <= this.#options.interKeyTimeoutMs) return [];
    if (this.#options.suffix === 'none') return this.#finish(this.#lastKeyAtMs, '');
    const count = this.#keyCount;
    const overflow = this.#overflow;
    this.#clear();
    // Keys that follow within the timeout may be the rest of this very scan, held up by an event-loop
    // stall: swallow them up to the suffix, so that the tail of a scan is never decoded as a scan.
    this.#resyncing = true;
    this.#lastKeyAtMs = atMs;
    if (overflow)
      return [reject('too_long', `scan longer than ${this.#options.maxScanChars} characters dropped`)];
    if (count <= 1) return []; // a lone key press is someone touching the keyboard, not a scan
    return [truncated(`no suffix key within ${this.#options.interKeyTimeoutMs} ms after ${count} keys`)];
  }

  /** When the unfinished scan times out, if there is one. */
  nextDeadlineMs(): number | undefined {
    return this.#pending() ? this.#lastKeyAtMs + this.#options.interKeyTimeoutMs + 1 : undefined;
  }

  /** Keys of an unfinished scan, 0 when idle. */
  get pendingKeys(): number {
    return this.#keyCount;
  }

  /** Forgets any unfinished scan and held keys (a new device session). */
  reset(): void {
    this.#clear();
    this.#heldCount = 0;
    this.#resyncing = false;
  }

  #pending(): boolean {
    return this.#keyCount > 0 || this.#overflow;
  }

  #press(usage: number, modifiers: number, atMs: number, events: DecoderEvent[]): void {
    const sinceLastKeyMs = atMs - this.#lastKeyAtMs;
    this.#lastKeyAtMs = atMs;
    if (usage === USAGE.capsLock) {
      this.#capsLock = !this.#capsLock;
      return;
    }
    if (usage === USAGE.numLock) {
      this.#numLock = !this.#numLock;
      return;
    }
    if (this.#resyncing) {
      if (sinceLastKeyMs <= this.#options.interKeyTimeoutMs) {
        if ((modifiers & (MOD_CTRL | MOD_ALT_GUI)) === 0 && this.#isSuffix(usage)) this.#resyncing = false;
        return; // the tail of a dropped scan
      }
      this.#resyncing = false; // a pause: this key starts a new scan
    }
    if ((modifiers & MOD_ALT_GUI) !== 0) return; // chords are commands, not data
    const shift = (modifiers & MOD_SHIFT) !== 0;
    let char: number;
    let otherChar: number;
    if ((modifiers & MOD_CTRL) !== 0) {
      if (this.#chars[charTableIndex(usage, shift, false)] !== RIGHT_BRACKET) return;
      char = GROUP_SEPARATOR;
      otherChar = GROUP_SEPARATOR;
    } else if (this.#isSuffix(usage)) {
      events.push(...this.#finish(atMs, this.#options.suffix === 'tab' ? '\t' : '\r'));
      return;
    } else if (isKeypadUsage(usage) && !this.#numLock) {
      return; // keypad navigation keys
    } else {
      const index = charTableIndex(usage, shift, this.#capsLock);
      char = this.#chars[index]!;
      otherChar = this.#otherChars[index]!;
    }
    if (this.#overflow) return;
    if (this.#keyCount === this.#options.maxScanChars) {
      this.#clear();
      this.#overflow = true;
      return;
    }
    if (this.#keyCount === 0) this.#firstKeyAtMs = atMs;
    this.#keyCount++;
    this.#lastStoredAtMs = atMs;
    this.#typed.add(char);
    this.#otherTyped.add(otherChar);
  }

  #isSuffix(usage: number): boolean {
    if (this.#options.suffix === 'enter') return usage === USAGE.enter || usage === USAGE.keypadEnter;
    if (this.#options.suffix === 'tab') return usage === USAGE.tab;
    return false;
  }

  #finish(endAtMs: number, suffix: string): DecoderEvent[] {
    try {
      return this.#decide(endAtMs, suffix);
    } finally {
      this.#clear();
    }
  }

  /** The scan the keys typed, or why it is refused. */
  #decide(endAtMs: number, suffix: string): DecoderEvent[] {
    const keys = this.#keyCount;
    if (this.#overflow) {
      return [reject('too_long', `scan longer than ${this.#options.maxScanChars} characters dropped`)];
    }
    if (keys === 0) return [];
    const gaps = suffix === '' ? keys - 1 : keys;
    const lastAtMs = suffix === '' ? this.#lastStoredAtMs : endAtMs;
    const avgIntervalMs = gaps === 0 ? 0 : (lastAtMs - this.#firstKeyAtMs) / gaps;
    if (avgIntervalMs > this.#options.maxAvgKeyIntervalMs) {
      const message = `${keys} keys ${avgIntervalMs.toFixed(1)} ms apart on average: typed by a person, not scanned`;
      return [reject('human_typing', message)];
    }
    const raw = this.#typed.bytes(suffix);
    const labelLength = raw.length - suffix.length;
    const mine: Typed = { text: raw.toString('latin1', 0, labelLength), unmapped: this.#typed.unmapped };
    const layout = this.#options.layout;
    // What the other layout typed is read only when the rule needs it (a text not well-formed on this one).
    const same = this.#typed.sameAs(this.#otherTyped);
    const likelyLayout = same ? undefined : layoutMismatch(mine, this.#otherTyped, layout, false);
    if (likelyLayout !== undefined) {
      const message = `scanner seems set to keyboard country ${likelyLayout}, lane configured for ${layout}: set the scanner's keyboard layout to match, or use HID POS or serial mode`;
      return [{ kind: 'rejected', reason: 'layout_mismatch', message, likelyLayout }];
    }
    if (mine.unmapped > 0) {
      return [reject('malformed', `${mine.unmapped} keys give no character on layout ${layout}`)];
    }
    return [scanFromFrame(raw, raw.subarray(0, labelLength), { aimPrefix: this.#options.aimPrefix })];
  }

  #clear(): void {
    this.#keyCount = 0;
    this.#overflow = false;
    this.#typed.clear();
    this.#otherTyped.clear();
  }
}

/** The characters one layout gives for the keys of a scan: ASCII bytes, filled as the keys come. */
class TypedBuffer implements Typed {
  readonly #bytes: Uint8Array;
  #length = 0;
  #unmapped = 0;

  constructor(maxChars: number) {
    this.#bytes = new Uint8Array(maxChars);
  }

  /** A character code, or -1 for a key that gives none. */
  add(char: number): void {
    if (char < 0) this.#unmapped++;
    else this.#bytes[this.#length++] = char;
  }

  get unmapped(): number {
    return this.#unmapped;
  }

  get text(): string {
    return Buffer.from(this.#bytes.buffer, 0, this.#length).toString('latin1');
  }

  /** Whether `other` typed the same characters and as many keys that gave none. */
  sameAs(other: TypedBuffer): boolean {
    if (other.#length !== this.#length || other.#unmapped !== this.#unmapped) return false;
    for (let i = 0; i < this.#length; i++) if (other.#bytes[i] !== this.#bytes[i]) return false;
    return true;
  }

  /** A copy of the characters, then `suffix` (ASCII). */
  bytes(suffix: string): Buffer {
    const out = Buffer.allocUnsafe(this.#length + suffix.length);
    out.set(this.#bytes.subarray(0, this.#length));
    for (let i = 0; i < suffix.length; i++) out[this.#length + i] = suffix.charCodeAt(i);
    return out;
  }

  clear(): void {
    this.#length = 0;
    this.#unmapped = 0;
  }
}

function includes(usages: Uint8Array, count: number, usage: number): boolean {
  for (let i = 0; i < count; i++) if (usages[i] === usage) return true;
  return false;
}

function reject(reason: 'too_long' | 'human_typing' | 'malformed', message: string): DecoderEvent {
  return { kind: 'rejected', reason, message };
}

function truncated(message: string): DecoderEvent {
  return { kind: 'rejected', reason: 'truncated', message };
}

/** What the keys type on `layout`; `unmapped` counts keys that type nothing there. */
export function decodeKeys(keys: readonly KeyPress[], layoutName: KeyboardLayoutName): Typed {
  const layout = keyboardLayout(layoutName);
  let text = '';
  let unmapped = 0;
  for (const key of keys) {
    const char = key.control ?? layout.charOf(key.usage, key.shift, key.capsLock);
    if (char === undefined) unmapped++;
    else text += char;
  }
  return { text, unmapped };
}

const WELL_FORMED = [
  /^PC1:[0-9A-Z $%*+\-./:]+$/, // a PC1 pay code (Base45 alphabet)
  /^[a-z][a-z0-9+.-]*:\/\/[\x21-\x7e]+$/i, // a URL
  /^[0-9]+$/,
];

/** Whether decoded text has the shape of a code we know (an AIM prefix is allowed before it). */
export function looksWellFormed(text: string): boolean {
  const body = /^\][A-Za-z][0-9A-Za-z]/.test(text) ? text.slice(3) : text;
  return WELL_FORMED.some((pattern) => pattern.test(body));
}

/**
 * The layout the scanner seems to use when it differs from `configured`: keys that type nothing on the
 * configured layout but do on the other (Hankaku/Zenkaku, Shift+0 on JIS; the Ro and Yen keys on US),
 * or text that is well-formed only when read with the other layout (`PC1+` vs `PC1:`).
 */
export function detectLayoutMismatch(
  keys: readonly KeyPress[],
  configured: KeyboardLayoutName,
  mine = decodeKeys(keys, configured),
): KeyboardLayoutName | undefined {
  const other: KeyboardLayoutName = configured === 'us' ? 'jp106' : 'us';
  return layoutMismatch(mine, decodeKeys(keys, other), configured);
}

/** What a scan typed on one layout: its text (keys that give nothing left out) and how many keys gave nothing. */
export interface Typed {
  text: string;
  unmapped: number;
}

/**
 * detectLayoutMismatch's rule, given what the keys type on the configured layout and on the other one; `theirs.text`
 * is read only when `mine.text` is not well-formed.
 */
function layoutMismatch(
  mine: Typed,
  theirs: Typed,
  configured: KeyboardLayoutName,
  same = mine.text === theirs.text && mine.unmapped === theirs.unmapped,
): KeyboardLayoutName | undefined {
  const other: KeyboardLayoutName = configured === 'us' ? 'jp106' : 'us';
  if (same) return undefined;
  if (mine.unmapped > 0 && theirs.unmapped === 0) return other;
  if (mine.unmapped === 0 && !looksWellFormed(mine.text) && looksWellFormed(theirs.text)) return other;
  return undefined;
}
