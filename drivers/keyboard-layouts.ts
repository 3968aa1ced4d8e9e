// Keyboard layouts for keyboard-wedge scanners: HID usage (page 0x07) + Shift → character, and the
// reverse for the wedge simulator. A scanner sends key positions; the layout the host assumes decides
// the characters, which is why a US-set scanner on a JIS host garbles `:` `@` `+` `*`.
export type KeyboardLayoutName = 'us' | 'jp106';

export const KEYBOARD_LAYOUTS: readonly KeyboardLayoutName[] = ['us', 'jp106'];

export interface KeyStroke {
  usage: number;
  shift: boolean;
}

export interface KeyboardLayout {
  readonly name: KeyboardLayoutName;
  /**
   * The character a key press gives, or undefined when it gives none on this layout.
   * Letters follow Shift XOR CapsLock; everything else follows Shift only.
   */
  charOf(usage: number, shift: boolean, capsLock?: boolean): string | undefined;
  /** The key press that types `char` on this layout (no CapsLock), or undefined. */
  keyOf(char: string): KeyStroke | undefined;
}

export const USAGE = {
  a: 0x04,
  z: 0x1d,
  enter: 0x28,
  escape: 0x29,
  tab: 0x2b,
  space: 0x2c,
  hankakuZenkaku: 0x35, // the grave-accent key on US, Hankaku/Zenkaku (IME toggle) on JIS
  capsLock: 0x39,
  numLock: 0x53,
  keypadEnter: 0x58,
  keypadFirst: 0x54,
  keypadLast: 0x63,
  intl1Ro: 0x87,
  intl3Yen: 0x89,
} as const;

/** [unshifted, shifted]; an empty string means "no character". */
type KeyPair = readonly [string, string];

const DIGIT_ROW_USAGES = [0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27];

const COMMON: ReadonlyArray<readonly [number, KeyPair]> = [
  [USAGE.enter, ['\r', '\r']],
  [USAGE.tab, ['\t', '\t']],
  [USAGE.space, [' ', ' ']],
  [0x36, [',', '<']],
  [0x37, ['.', '>']],
  [0x38, ['/', '?']],
];

// Keypad characters with NumLock on; the decoder drops them when it has seen NumLock turned off.
const KEYPAD: ReadonlyArray<readonly [number, KeyPair]> = [
  [0x54, ['/', '/']],
  [0x55, ['*', '*']],
  [0x56, ['-', '-']],
  [0x57, ['+', '+']],
  [USAGE.keypadEnter, ['\r', '\r']],
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => [0x58 + d, [String(d), String(d)]] as const),
  [0x62, ['0', '0']],
  [0x63, ['.', '.']],
];

function digitRow(shifted: string): Array<readonly [number, KeyPair]> {
  return DIGIT_ROW_USAGES.map((usage, i) => [usage, [String((i + 1) % 10), shifted[i] ?? '']] as const);
}

const US_KEYS: ReadonlyArray<readonly [number, KeyPair]> = [
  ...digitRow('!@#$%^&*()'),
  ...COMMON,
  [0x2d, ['-', '_']],
  [0x2e, ['=', '+']],
  [0x2f, ['[', '{']],
  [0x30, [']', '}']],
  [0x31, ['\\', '|']],
  [0x33, [';', ':']],
  [0x34, ["'", '"']],
  [0x35, ['`', '~']],
  [0x32, ['\\', '|']], // Non-US #~ key: backslash on a US host
  [0x64, ['\\', '|']], // Non-US \| key
];

const JP106_KEYS: ReadonlyArray<readonly [number, KeyPair]> = [
  ...digitRow('!"#$%&\'()'), // Shift+0 types nothing on JIS
  ...COMMON,
  [0x2d, ['-', '=']],
  [0x2e, ['^', '~']],
  [0x2f, ['@', '`']],
  [0x30, ['[', '{']],
  [0x32, [']', '}']],
  [0x31, [']', '}']],
  [0x33, [';', '+']],
  [0x34, [':', '*']],
  // 0x35 is Hankaku/Zenkaku: no character, it toggles the IME.
  [USAGE.intl1Ro, ['\\', '_']],
  [USAGE.intl3Yen, ['\\', '|']], // the Yen key types 0x5C, which Japanese fonts draw as ¥
];

class TableLayout implements KeyboardLayout {
  readonly #chars = new Map<number, KeyPair>();
  readonly #keys = new Map<string, KeyStroke>();

  constructor(
    readonly name: KeyboardLayoutName,
    keys: ReadonlyArray<readonly [number, KeyPair]>,
  ) {
    for (let usage = USAGE.a; usage <= USAGE.z; usage++) {
      const letter = String.fromCharCode(0x61 + usage - USAGE.a);
      this.#chars.set(usage, [letter, letter.toUpperCase()]);
    }
    for (const [usage, pair] of [...keys, ...KEYPAD]) this.#chars.set(usage, pair);
    // Reverse map: the first key in table order wins, the keypad only where nothing else types it.
    for (const [usage, pair] of [...this.#chars.entries()].sort(([a], [b]) => keyRank(a) - keyRank(b))) {
      pair.forEach((char, index) => {
        if (char !== '' && !this.#keys.has(char)) this.#keys.set(char, { usage, shift: index === 1 });
      });
    }
  }

  charOf(usage: number, shift: boolean, capsLock = false): string | undefined {
    const pair = this.#chars.get(usage);
    if (pair === undefined) return undefined;
    const isLetter = usage >= USAGE.a && usage <= USAGE.z;
    const char = pair[(isLetter ? shift !== capsLock : shift) ? 1 : 0];
    return char === '' ? undefined : char;
  }

  keyOf(char: string): KeyStroke | undefined {
    return this.#keys.get(char);
  }
}

function keyRank(usage: number): number {
  if (usage >= USAGE.keypadFirst && usage <= USAGE.keypadLast) return 0x1000 + usage;
  if (usage === 0x32 || usage === 0x64 || usage === USAGE.intl3Yen) return 0x800 + usage;
  return usage;
}

const LAYOUTS: Record<KeyboardLayoutName, KeyboardLayout> = {
  us: new TableLayout('us', US_KEYS),
  jp106: new TableLayout('jp106', JP106_KEYS),
};

export function keyboardLayout(name: KeyboardLayoutName): KeyboardLayout {
  return LAYOUTS[name];
}

/** Usages are one byte in a boot keyboard report. */
const USAGE_COUNT = 256;
const CHAR_TABLES = new Map<KeyboardLayoutName, Int16Array>();

/**
 * `charOf` as a flat table for the decoder's per-key path: the character code at
 * `charTableIndex(usage, shift, capsLock)`, or -1 where the key gives none. Every character of these layouts is
 * ASCII, so a scan's text is its bytes.
 */
export function charCodeTable(name: KeyboardLayoutName): Int16Array {
  let table = CHAR_TABLES.get(name);
  if (table === undefined) {
    const layout = keyboardLayout(name);
    table = new Int16Array(USAGE_COUNT * 4).fill(-1);
    for (let usage = 0; usage < USAGE_COUNT; usage++) {
      for (const shift of [false, true]) {
        for (const capsLock of [false, true]) {
          const char = layout.charOf(usage, shift, capsLock);
          if (char === undefined) continue;
          const code = char.charCodeAt(0);
          if (char.length !== 1 || code > 0x7f)
            throw new Error(`layout ${name}: ${char} is not one ASCII character`);
          table[charTableIndex(usage, shift, capsLock)] = code;
        }
      }
    }
    CHAR_TABLES.set(name, table);
  }
  return table;
}

export function charTableIndex(usage: number, shift: boolean, capsLock: boolean): number {
  return (usage << 2) | (shift ? 2 : 0) | (capsLock ? 1 : 0);
}

export function isKeypadUsage(usage: number): boolean {
  return usage >= USAGE.keypadFirst && usage <= USAGE.keypadLast;
}
