// HID POS reassembly: the Access-IS example, every split of the PC1 code, truncation, caps, malformed reports.
import { describe, expect, it } from 'vitest';
import type { DecoderEvent } from './decoded-scan.js';
import { HidPosDecoder, type HidPosDecoderOptions } from './hidpos-decoder.js';
import { PC1_CODE } from './scanner-contract.case.js';
import { frameHidPos } from './simulators.js';

const defaults: HidPosDecoderOptions = { maxScanBytes: 4096, interReportTimeoutMs: 100 };

function decode(
  reports: readonly Uint8Array[],
  options: Partial<HidPosDecoderOptions> = {},
  stepMs = 1,
): DecoderEvent[] {
  const decoder = new HidPosDecoder({ ...defaults, ...options });
  return reports.flatMap((report, i) => decoder.push(report, i * stepMs));
}

function texts(events: readonly DecoderEvent[]): string[] {
  return events.flatMap((event) => (event.kind === 'scan' ? [event.scan.text] : []));
}

function rejections(events: readonly DecoderEvent[]): string[] {
  return events.flatMap((event) => (event.kind === 'rejected' ? [event.reason] : []));
}

describe('HidPosDecoder', () => {
  it('reassembles the Access-IS 60-byte example: 56 bytes continued, then 4', () => {
    const payload = '0123456789'.repeat(6);
    const reports = frameHidPos(payload, { aimId: ']Q0' });
    expect(reports).toHaveLength(2);
    expect([reports[0]![1], reports[0]![63], reports[1]![1], reports[1]![63]]).toEqual([56, 1, 4, 0]);
    expect(Buffer.from(reports[0]!.subarray(2, 5)).toString()).toBe(']Q0');
    expect(reports[1]!.subarray(9, 61).every((byte) => byte === 0)).toBe(true);
    const events = decode(reports);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'scan', scan: { text: payload, aimId: ']Q0', symbology: 'qr' } });
  });

  it('decodes the 301-character PC1 code split at every byte boundary', () => {
    for (let cut = 1; cut < PC1_CODE.length; cut++) {
      const reports = frameHidPos(PC1_CODE, { aimId: ']Q1', splitAt: [cut] });
      expect(texts(decode(reports)), `cut at ${cut}`).toEqual([PC1_CODE]);
    }
  });

  it('keeps raw = AIM + label, and falls back to the vendor Code ID without an AIM', () => {
    const [withAim] = decode(frameHidPos('4901234567894', { aimId: ']E0' }));
    expect(withAim).toMatchObject({ kind: 'scan', scan: { symbology: 'ean-upc' } });
    expect(withAim!.kind === 'scan' && Buffer.from(withAim!.scan.raw).toString()).toBe(']E04901234567894');
    const [noAim] = decode(frameHidPos('PC1:ABCD', { aimId: undefined, codeId: 's' }));
    expect(noAim).toMatchObject({ kind: 'scan', scan: { text: 'PC1:ABCD', symbology: 'qr' } });
    expect(noAim!.kind === 'scan' && noAim!.scan.aimId).toBeUndefined();
  });

  it('times out a truncated sequence and never emits it', () => {
    const decoder = new HidPosDecoder(defaults);
    const [first] = frameHidPos(PC1_CODE, { aimId: ']Q1' });
    expect(decoder.push(first!, 0)).toEqual([]);
    expect(decoder.nextDeadlineMs()).toBe(101);
    expect(decoder.tick(100)).toEqual([]);
    expect(rejections(decoder.tick(101))).toEqual(['truncated']);
    expect(decoder.pendingBytes).toBe(0);
    const events = frameHidPos('NEXT-CODE', { aimId: ']Q1' }).flatMap((report) => decoder.push(report, 300));
    expect(texts(events)).toEqual(['NEXT-CODE']);
  });

  it('never decodes the tail of a timed-out scan (reports held up by an event-loop stall)', () => {
    const reports = frameHidPos(PC1_CODE, { aimId: ']Q1' });
    const next = frameHidPos('NEXT-CODE', { aimId: ']Q1' });
    for (const timerFirst of [true, false]) {
      const decoder = new HidPosDecoder(defaults);
      const events = decoder.push(reports[0]!, 0);
      if (timerFirst) events.push(...decoder.tick(150)); // the timer ran before the queued reports
      for (const report of reports.slice(1)) events.push(...decoder.push(report, 151));
      expect(texts(events), `timer first: ${timerFirst}`).toEqual([]);
      expect(rejections(events)).toEqual(['truncated']);
      expect(texts(next.flatMap((report) => decoder.push(report, 400)))).toEqual(['NEXT-CODE']);
    }
  });

  it('drops an unfinished scan when another symbology begins', () => {
    const [first] = frameHidPos(PC1_CODE, { aimId: ']Q1' });
    const events = decode([first!, ...frameHidPos('CODE128', { aimId: ']C0' })]);
    expect(rejections(events)).toEqual(['truncated']);
    expect(texts(events)).toEqual(['CODE128']);
  });

  it('drops a scan over the byte cap whole, then decodes the next', () => {
    const events = decode(
      [...frameHidPos('X'.repeat(300), { aimId: ']d2' }), ...frameHidPos('SMALL-1', { aimId: ']d2' })],
      {
        maxScanBytes: 200,
      },
    );
    expect(rejections(events)).toEqual(['too_long']);
    expect(texts(events)).toEqual(['SMALL-1']);
  });

  it('ignores other report IDs, even in the middle of a scan', () => {
    const [a, b] = frameHidPos('Y'.repeat(80), { aimId: ']Q1' });
    const trigger = Uint8Array.of(0x04, 0, 0, 0);
    expect(texts(decode([a!, trigger, new Uint8Array(0), b!]))).toEqual(['Y'.repeat(80)]);
  });

  it('treats short reports and bad lengths as malformed, dropping the scan they interrupt and its rest', () => {
    const [a, b] = frameHidPos('Z'.repeat(80), { aimId: ']Q1' });
    const short = a!.slice(0, 40);
    const zeroLength = Uint8Array.from(b!, (byte, i) => (i === 1 ? 0 : byte));
    const tooLong = Uint8Array.from(b!, (byte, i) => (i === 1 ? 57 : byte));
    for (const bad of [short, zeroLength, tooLong]) {
      const events = decode([a!, bad, b!]);
      expect(rejections(events)).toEqual(['malformed']);
      expect(texts(events)).toEqual([]); // b alone would be a scan of the last 24 bytes: never
    }
  });

  it('rejects labels that are not UTF-8', () => {
    const events = decode(frameHidPos(Uint8Array.of(0x50, 0xff, 0xfe, 0x41), { aimId: ']Q1' }));
    expect(rejections(events)).toEqual(['bad_encoding']);
  });
});
