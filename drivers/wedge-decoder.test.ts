// Keyboard-wedge decoding: press edges, chords, CapsLock, suffixes, timeouts, human typing, layout mismatch.
import { describe, expect, it } from 'vitest';
import { type DecoderEvent, pushOnTime } from './decoded-scan.js';
import type { KeyboardLayoutName } from './keyboard-layouts.js';
import { PC1_CODE } from './scanner-contract.case.js';
import { encodeWedge, type TimedReport } from './simulators.js';
import { WedgeDecoder, type WedgeDecoderOptions } from './wedge-decoder.js';

const defaults: WedgeDecoderOptions = {
  layout: 'us',
  suffix: 'enter',
  interKeyTimeoutMs: 100,
  maxAvgKeyIntervalMs: 30,
  maxScanChars: 2048,
  aimPrefix: 'auto',
};

function decode(reports: readonly TimedReport[], options: Partial<WedgeDecoderOptions> = {}): DecoderEvent[] {
  const decoder = new WedgeDecoder({ ...defaults, ...options });
  const events = reports.flatMap(({ report, atMs }) => pushOnTime(decoder, report, atMs));
  const last = reports[reports.length - 1]?.atMs ?? 0;
  return [...events, ...decoder.tick(last + 10_000)];
}

function texts(events: readonly DecoderEvent[]): string[] {
  return events.flatMap((event) => (event.kind === 'scan' ? [event.scan.text] : []));
}

function rejections(events: readonly DecoderEvent[]): string[] {
  return events.flatMap((event) => (event.kind === 'rejected' ? [event.reason] : []));
}

const report = (modifiers: number, ...keys: number[]) =>
  Uint8Array.from([modifiers, 0, ...keys, 0, 0, 0, 0, 0, 0].slice(0, 8));
const timed = (reports: Uint8Array[], stepMs = 4): TimedReport[] =>
  reports.map((r, i) => ({ report: r, atMs: i * stepMs }));
const RELEASE = report(0);
const ENTER = 0x28;

describe('WedgeDecoder', () => {
  for (const layout of ['us', 'jp106'] as const) {
    it(`decodes what a ${layout} scanner types, symbols, capitals and repeated characters included`, () => {
      const text = 'PC1:%50V$AV aa11 1111 ~!@#$%^&*()_+{}|"<>? `-=[]\\;\',./';
      const events = decode(encodeWedge(text, { layout, suffix: 'enter' }), { layout });
      expect(texts(events)).toEqual([text]);
    });
  }

  it('decodes the 301-character PC1 code and reads its AIM prefix', () => {
    const events = decode(encodeWedge(`]Q1${PC1_CODE}`, { layout: 'us', suffix: 'enter' }));
    expect(events).toHaveLength(1);
    const scan = events[0]!.kind === 'scan' ? events[0]!.scan : undefined;
    expect(scan).toMatchObject({ text: PC1_CODE, aimId: ']Q1', symbology: 'qr' });
    expect(Buffer.from(scan!.raw).toString()).toBe(`]Q1${PC1_CODE}\r`);
  });

  it('decodes the PC1 code split into two bursts at every report boundary', () => {
    const reports = encodeWedge(PC1_CODE, { layout: 'us', suffix: 'enter', interKeyMs: 8 });
    for (let cut = 1; cut < reports.length; cut++) {
      const decoder = new WedgeDecoder(defaults);
      const shifted = reports.map(({ report, atMs }, i) => ({ report, atMs: i < cut ? atMs : atMs + 90 }));
      const events = shifted.flatMap(({ report, atMs }) => decoder.push(report, atMs));
      expect(texts(events), `cut at ${cut}`).toEqual([PC1_CODE]);
    }
  });

  it('needs a press edge: a held key types once, a key pressed during another is seen', () => {
    const held = timed([
      report(0, 0x1e),
      report(0, 0x1e),
      report(0, 0x1e),
      RELEASE,
      report(0, 0x1e),
      RELEASE,
    ]);
    const rollover = timed([
      report(0, 0x04),
      report(0, 0x04, 0x05),
      report(0, 0x05),
      RELEASE,
      report(0, 0x06),
    ]);
    const enter = [report(0, ENTER), RELEASE];
    expect(texts(decode(timed([...held.map((r) => r.report), ...enter])))).toEqual(['11']);
    expect(texts(decode(timed([...rollover.map((r) => r.report), ...enter])))).toEqual(['abc']);
  });

  it('ignores Ctrl, Alt and GUI chords, but takes Ctrl+] as the GS1 separator', () => {
    const keys = [
      report(0, 0x04), // a
      report(0x01, 0x06), // Ctrl+c
      report(0x04, 0x05), // Alt+b
      report(0x08, 0x07), // GUI+d
      report(0x01, 0x30), // Ctrl+] → GS
      report(0, 0x05), // b
      report(0, ENTER),
    ].flatMap((r) => [r, RELEASE]);
    expect(texts(decode(timed(keys)))).toEqual(['a\u001db']);
  });

  it('tracks CapsLock and NumLock from the reports', () => {
    const keys = [
      report(0, 0x39), // CapsLock on
      report(0, 0x04), // A
      report(0x02, 0x05), // Shift+b → b
      report(0, 0x1e), // 1
      report(0, 0x39), // CapsLock off
      report(0, 0x06), // c
      report(0, 0x53), // NumLock off
      report(0, 0x59), // keypad End: no character
      report(0, 0x53), // NumLock on
      report(0, 0x5a), // keypad 2
      report(0, ENTER),
    ].flatMap((r) => [r, RELEASE]);
    expect(texts(decode(timed(keys)))).toEqual(['Ab1c2']);
  });

  it('skips ErrorRollOver reports and accepts 9-byte reports with a report ID', () => {
    const rollover = Uint8Array.of(0, 0, 1, 1, 1, 1, 1, 1);
    const withId = (r: Uint8Array) => Uint8Array.of(1, ...r);
    const keys = [
      report(0, 0x04),
      rollover,
      RELEASE,
      withId(report(0, 0x05)),
      withId(RELEASE),
      report(0, ENTER),
    ];
    expect(texts(decode(timed(keys)))).toEqual(['ab']);
  });

  it('ends scans on Tab, or on a pause when there is no suffix', () => {
    expect(texts(decode(encodeWedge('ABC123', { layout: 'us', suffix: 'tab' }), { suffix: 'tab' }))).toEqual([
      'ABC123',
    ]);
    const first = encodeWedge('ABC123', { layout: 'us', suffix: 'none' });
    const second = encodeWedge('XYZ789', { layout: 'us', suffix: 'none', startMs: 500 });
    expect(texts(decode([...first, ...second], { suffix: 'none' }))).toEqual(['ABC123', 'XYZ789']);
  });

  it('drops a scan whose suffix does not come within the inter-key timeout', () => {
    const cut = encodeWedge('PARTIAL', { layout: 'us', suffix: 'none' });
    const next = encodeWedge('WHOLE-CODE', { layout: 'us', suffix: 'enter', startMs: 1000 });
    const events = decode([...cut, ...next]);
    expect(texts(events)).toEqual(['WHOLE-CODE']);
    expect(rejections(events)).toEqual(['truncated']);
  });

  it('never decodes the tail of a timed-out scan (keys held up by an event-loop stall)', () => {
    const reports = encodeWedge(PC1_CODE, { layout: 'us', suffix: 'enter' });
    const next = encodeWedge('NEXT-CODE', { layout: 'us', suffix: 'enter', startMs: 5000 });
    for (const timerFirst of [true, false]) {
      const decoder = new WedgeDecoder(defaults);
      const events = reports.slice(0, 100).flatMap(({ report, atMs }) => decoder.push(report, atMs));
      if (timerFirst) events.push(...decoder.tick(1000)); // the timer ran before the queued reports
      for (const { report } of reports.slice(100)) events.push(...decoder.push(report, 1001));
      expect(texts(events), `timer first: ${timerFirst}`).toEqual([]);
      expect(rejections(events)).toEqual(['truncated']);
      expect(texts(next.flatMap(({ report, atMs }) => decoder.push(report, atMs)))).toEqual(['NEXT-CODE']);
    }
  });

  it('tells a person typing from a scanner by the key rate', () => {
    const code = '8812345678901234567';
    const at = (interKeyMs: number) =>
      decode(encodeWedge(code, { layout: 'us', suffix: 'enter', interKeyMs }));
    expect(texts(at(8))).toEqual([code]);
    expect(texts(at(16))).toEqual([code]);
    expect(texts(at(60))).toEqual([]);
    expect(rejections(at(60))).toEqual(['human_typing']);
    expect(texts(at(200))).toEqual([]); // each key times out alone
    expect(at(200).filter((event) => event.kind === 'scan')).toEqual([]);
  });

  describe('layout mismatch', () => {
    const cases: Array<[scanner: KeyboardLayoutName, lane: KeyboardLayoutName]> = [
      ['us', 'jp106'],
      ['jp106', 'us'],
    ];
    for (const [scanner, lane] of cases) {
      it(`detects a ${scanner} scanner on a ${lane} lane and refuses the garbled PC1 code`, () => {
        const events = decode(encodeWedge(PC1_CODE, { layout: scanner, suffix: 'enter' }), { layout: lane });
        expect(texts(events)).toEqual([]);
        expect(events).toEqual([
          expect.objectContaining({ kind: 'rejected', reason: 'layout_mismatch', likelyLayout: scanner }),
        ]);
      });
    }

    it('detects Hankaku/Zenkaku and Shift+0 from a US scanner on a JIS lane', () => {
      const events = decode(encodeWedge('ab`c)d', { layout: 'us', suffix: 'enter' }), { layout: 'jp106' });
      expect(events).toEqual([expect.objectContaining({ reason: 'layout_mismatch', likelyLayout: 'us' })]);
    });

    it('shows the known corruption when read with the wrong layout', async () => {
      const { decodeKeys } = await import('./wedge-decoder.js');
      const keys = encodeWedge('a:b@c+', { layout: 'us', suffix: 'none' })
        .filter((_, i) => i % 2 === 0)
        .map(({ report, atMs }) => ({ usage: report[2]!, shift: report[0] === 2, capsLock: false, atMs }));
      expect(decodeKeys(keys, 'jp106').text).toBe('a+b"c~');
    });

    it('lets layout-universal codes through whatever the layout', () => {
      const code = '88123456789012345678';
      const events = decode(encodeWedge(code, { layout: 'us', suffix: 'enter' }), { layout: 'jp106' });
      expect(texts(events)).toEqual([code]);
    });
  });

  it('drops a scan over the character cap whole, and decodes the next one', () => {
    const long = encodeWedge('A'.repeat(40), { layout: 'us', suffix: 'enter' });
    const next = encodeWedge('SHORT-CODE', { layout: 'us', suffix: 'enter', startMs: 1000 });
    const events = decode([...long, ...next], { maxScanChars: 32 });
    expect(texts(events)).toEqual(['SHORT-CODE']);
    expect(rejections(events)).toEqual(['too_long']);
  });

  it('takes a scan of exactly the character cap and drops one a character longer', () => {
    const at = (text: string, startMs: number) =>
      encodeWedge(text, { layout: 'us', suffix: 'enter', startMs });
    const events = decode(
      [...at('A'.repeat(32), 0), ...at('B'.repeat(33), 1000), ...at('C'.repeat(32), 2000)],
      {
        maxScanChars: 32,
      },
    );
    expect(texts(events)).toEqual(['A'.repeat(32), 'C'.repeat(32)]);
    expect(rejections(events)).toEqual(['too_long']);
  });

  it('refuses keys that type nothing on the layout instead of dropping them', () => {
    const keys = [report(0, 0x04), report(0, 0x3a), report(0, 0x05), report(0, ENTER)].flatMap((r) => [
      r,
      RELEASE,
    ]);
    const events = decode(timed(keys));
    expect(texts(events)).toEqual([]);
    expect(rejections(events)).toEqual(['malformed']);
  });

  it('forgets an unfinished scan on reset', () => {
    const decoder = new WedgeDecoder(defaults);
    for (const { report, atMs } of encodeWedge('PARTIAL', { layout: 'us', suffix: 'none' }))
      decoder.push(report, atMs);
    expect(decoder.pendingKeys).toBe(7);
    decoder.reset();
    expect(decoder.nextDeadlineMs()).toBeUndefined();
    const events = encodeWedge('-REST', { layout: 'us', suffix: 'enter', startMs: 60 }).flatMap(
      ({ report, atMs }) => decoder.push(report, atMs),
    );
    expect(texts(events)).toEqual(['-REST']);
  });
});
