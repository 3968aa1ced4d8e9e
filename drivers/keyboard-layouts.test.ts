// US and JIS layouts: every printable character round-trips, and the known US-on-JIS corruption.
import { describe, expect, it } from 'vitest';
import { keyboardLayout } from './keyboard-layouts.js';

const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i));

describe('keyboard layouts', () => {
  for (const name of ['us', 'jp106'] as const) {
    it(`${name}: every printable ASCII character has a key, and that key types it back`, () => {
      const layout = keyboardLayout(name);
      for (const char of PRINTABLE_ASCII) {
        const key = layout.keyOf(char);
        expect(key, char).toBeDefined();
        expect(layout.charOf(key!.usage, key!.shift), char).toBe(char);
      }
    });
  }

  it('gives the known wrong characters when a US-set scanner types on a JIS host', () => {
    const us = keyboardLayout('us');
    const jis = keyboardLayout('jp106');
    const onJis = (char: string) => {
      const key = us.keyOf(char)!;
      return jis.charOf(key.usage, key.shift);
    };
    expect(onJis(':')).toBe('+');
    expect(onJis('@')).toBe('"');
    expect(onJis('+')).toBe('~');
    expect(onJis('*')).toBe('(');
    expect(onJis('=')).toBe('^');
    expect(onJis('_')).toBe('=');
    expect(onJis(')')).toBeUndefined(); // Shift+0 types nothing on JIS
    expect(onJis('`')).toBeUndefined(); // Hankaku/Zenkaku
    for (const char of 'abcXYZ0123456789 ') expect(onJis(char)).toBe(char); // layout-universal
  });

  it('applies CapsLock to letters only', () => {
    const us = keyboardLayout('us');
    expect(us.charOf(0x04, false, true)).toBe('A');
    expect(us.charOf(0x04, true, true)).toBe('a');
    expect(us.charOf(0x1e, false, true)).toBe('1');
  });

  it('types keypad digits like the digit row and knows no character for unmapped usages', () => {
    const us = keyboardLayout('us');
    expect(us.charOf(0x59, false)).toBe('1');
    expect(us.charOf(0x62, false)).toBe('0');
    expect(us.charOf(0x3a, false)).toBeUndefined(); // F1
    expect(keyboardLayout('jp106').charOf(0x87, true)).toBe('_');
    expect(us.charOf(0x87, false)).toBeUndefined();
  });
});
