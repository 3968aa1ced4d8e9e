// Keyboard-wedge decoding, pure: 8-byte boot keyboard reports with their arrival time → key presses
// (press edges, so "11" needs a release in between) → scans ended by a suffix key or a pause.
// Tells a scanner from a person by key timing and a US-set scanner on a JIS host by what it types.
import type { AimPrefixMode } from './aim.js';
import { type DecoderEvent, scanFromFrame } from './decoded-scan.js';
import { isKeypadUsage, type KeyboardLayoutName, keyboardLayout, USAGE } from './keyboard-layouts.js';

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
const GROUP_SEPARATOR = '\u001d';

export class WedgeDecoder {
  readonly #options: WedgeDecoderOptions;
  #held = new Set<number>();
  #capsLock = false;
  #numLock = true;
  #keys: KeyPress[] = [];
  #overflow = false;
  /** After a timeout drop: skipping what may be the rest of the dropped scan. */
  #resyncing = false;
  #lastKeyAtMs = 0;

  constructor(options: WedgeDecoderOptions) {
    this.#options = options;
  }

  /** Feeds one report (8 bytes, or 9 with a leading report ID) received at `atMs`. */
  push(report: Uint8Array, atMs: number): DecoderEvent[] {
    const events = this.tick(atMs);
    const keyboard = report.length === 9 ? report.subarray(1) : report;
    if (keyboard.length !== 8) return events;
    const slots = keyboard.subarray(2, 8);
    if (slots.includes(ERROR_ROLL_OVER)) return events; // phantom state: too many keys at once
    const modifiers = keyboard[0]!;
    const down = new Set<number>();
    for (const usage of slots) if (usage !== 0) down.add(usage);
    const pressed = [...down].filter((usage) => !this.#held.has(usage)); // press edges only
    this.#held = down;
    for (const usage of pressed) this.#press(usage, modifiers, atMs, events);
    return events;
  }

  /** Applies the inter-key timeout as of `atMs`. Call it when `nextDeadlineMs()` passes. */
  tick(atMs: number): DecoderEvent[] {
    if (!this.#pending() || atMs - this.#lastKeyAtMs <= this.#options.interKeyTimeoutMs) return [];
    if (this.#options.suffix === 'none') return this.#finish(this.#lastKeyAtMs, '');
    const count = this.#keys.length;
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
    return this.#keys.length;
  }

  /** Forgets any unfinished scan and held keys (a new device session). */
  reset(): void {
    this.#clear();
    this.#held.clear();
    this.#resyncing = false;
  }

  #pending(): boolean {
    return this.#keys.length > 0 || this.#overflow;
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
    const key: KeyPress = { usage, shift, capsLock: this.#capsLock, atMs };
    if ((modifiers & MOD_CTRL) !== 0) {
      if (keyboardLayout(this.#options.layout).charOf(usage, shift) !== ']') return;
      key.control = GROUP_SEPARATOR;
    } else if (this.#isSuffix(usage)) {
      events.push(...this.#finish(atMs, this.#options.suffix === 'tab' ? '\t' : '\r'));
      return;
    } else if (isKeypadUsage(usage) && !this.#numLock) {
      return; // keypad navigation keys
    }
    if (this.#overflow) return;
    this.#keys.push(key);
    if (this.#keys.length > this.#options.maxScanChars) {
      this.#keys = [];
      this.#overflow = true;
    }
  }

  #isSuffix(usage: number): boolean {
    if (this.#options.suffix === 'enter') return usage === USAGE.enter || usage === USAGE.keypadEnter;
    if (this.#options.suffix === 'tab') return usage === USAGE.tab;
    return false;
  }

  #finish(endAtMs: number, suffix: string): DecoderEvent[] {
    const keys = this.#keys;
    const overflow = this.#overflow;
    this.#clear();
    if (overflow) {
      return [reject('too_long', `scan longer than ${this.#options.maxScanChars} characters dropped`)];
    }
    if (keys.length === 0) return [];
    const avgIntervalMs = averageIntervalMs(keys, suffix === '' ? undefined : endAtMs);
    if (avgIntervalMs > this.#options.maxAvgKeyIntervalMs) {
      const message = `${keys.length} keys ${avgIntervalMs.toFixed(1)} ms apart on average: typed by a person, not scanned`;
      return [reject('human_typing', message)];
    }
    const layout = this.#options.layout;
    const typed = decodeKeys(keys, layout);
    const likelyLayout = detectLayoutMismatch(keys, layout, typed);
    if (likelyLayout !== undefined) {
      const message = `scanner seems set to keyboard country ${likelyLayout}, lane configured for ${layout}: set the scanner's keyboard layout to match, or use HID POS or serial mode`;
      return [{ kind: 'rejected', reason: 'layout_mismatch', message, likelyLayout }];
    }
    if (typed.unmapped > 0) {
      return [reject('malformed', `${typed.unmapped} keys give no character on layout ${layout}`)];
    }
    const label = Buffer.from(typed.text, 'utf8');
    const raw = Buffer.from(typed.text + suffix, 'utf8');
    return [scanFromFrame(raw, label, { aimPrefix: this.#options.aimPrefix })];
  }

  #clear(): void {
    this.#keys = [];
    this.#overflow = false;
  }
}

function reject(reason: 'too_long' | 'human_typing' | 'malformed', message: string): DecoderEvent {
  return { kind: 'rejected', reason, message };
}

function truncated(message: string): DecoderEvent {
  return { kind: 'rejected', reason: 'truncated', message };
}

/** Mean gap between consecutive presses, the suffix press included when there is one. */
function averageIntervalMs(keys: readonly KeyPress[], suffixAtMs: number | undefined): number {
  const first = keys[0]!.atMs;
  const last = suffixAtMs ?? keys[keys.length - 1]!.atMs;
  const gaps = suffixAtMs === undefined ? keys.length - 1 : keys.length;
  return gaps === 0 ? 0 : (last - first) / gaps;
}

/** What the keys type on `layout`; `unmapped` counts keys that type nothing there. */
export function decodeKeys(
  keys: readonly KeyPress[],
  layoutName: KeyboardLayoutName,
): { text: string; unmapped: number } {
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
  const theirs = decodeKeys(keys, other);
  if (mine.text === theirs.text && mine.unmapped === theirs.unmapped) return undefined;
  if (mine.unmapped > 0 && theirs.unmapped === 0) return other;
  if (mine.unmapped === 0 && !looksWellFormed(mine.text) && looksWellFormed(theirs.text)) return other;
  return undefined;
}
