// Money in the currency's minor unit, times in the store's zone, ages in two units, and text escaped for HTML.
import { describe, expect, it } from 'vitest';
import { duration, Formatter } from './format.js';
import { escapeHtml, html, jsonForScript } from './html.js';

describe('Formatter', () => {
  const fmt = new Formatter('Asia/Tokyo');

  it('writes amounts in minor units as the currency shows them', () => {
    expect(fmt.money(1_200, 'JPY')).toBe('¥1,200');
    expect(fmt.money(1_200, 'USD')).toBe('$12.00');
    expect(fmt.money(5, 'KWD')).toMatch(/^KWD\s0\.005$/);
  });

  it('writes times in the store time zone', () => {
    expect(fmt.time('2026-11-25T05:03:07Z')).toBe('14:03:07');
    expect(fmt.dateTime('2026-11-25T15:30:00Z')).toBe('2026-11-26 00:30');
    expect(fmt.hour(Date.UTC(2026, 10, 25, 3))).toBe('12:00');
  });
});

describe('duration', () => {
  it('uses the largest two units', () => {
    expect([0, 59, 60, 3599, 3600, 7500, 86_400, 90_000].map(duration)).toEqual([
      '0 s',
      '59 s',
      '1 min',
      '59 min',
      '1 h',
      '2 h 5 min',
      '1 d',
      '1 d 1 h',
    ]);
  });
});

describe('html', () => {
  it('escapes every interpolated value, nested templates and lists included, but not its own markup', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(escapeHtml(name)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    const out = html`<ul>${[name, 2].map((v) => html`<li title="${v}">${v}</li>`)}</ul>${null}${false}${undefined}`;
    expect(out.text).toBe(
      `<ul><li title="${escapeHtml(name)}">${escapeHtml(name)}</li><li title="2">2</li></ul>`,
    );
  });

  it('keeps data in a script block from closing it', () => {
    expect(jsonForScript({ a: '</script><b>' }).text).toBe('{"a":"\\u003c/script>\\u003cb>"}');
  });
});
