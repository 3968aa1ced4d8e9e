// 10,000 random streams into each decoder: valid framed codes interleaved with garbage. Garbage is
// arbitrary bytes, made only so that it can never complete a frame of its own and so that any frame it
// touches carries a byte or key the validator refuses (a control character). The property: no crash,
// bounded buffers, and every emitted scan is exactly one of the codes sent; a code with nothing but
// other codes (or a pause) before it is always delivered.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecoderEvent, pushOnTime } from './decoded-scan.js';
import { HidPosDecoder } from './hidpos-decoder.js';
import { ScanFilter } from './scan-filter.js';
import { PC1_CODE } from './scanner-contract.case.js';
import { createSerialFramer, serialFrameEvent } from './serial-framer.js';
import { encodeWedge, frameHidPos, type TimedReport } from './simulators.js';
import { WedgeDecoder } from './wedge-decoder.js';

const RUNS = 10_000;
const SEED = 20260401;
const filter = new ScanFilter({
  dedupeWindowMs: 0,
  minLength: 4,
  maxLength: 4096,
  allowGroupSeparator: true,
});

// No "]" (an unintended AIM prefix) and nothing layout-sensitive that reads as a known format on JIS.
const CODE_CHARS = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz $%*+-./:'];
const codeArb = fc.oneof(
  { weight: 40, arbitrary: fc.string({ unit: fc.constantFrom(...CODE_CHARS), minLength: 4, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constant(PC1_CODE) },
);

/** A code, possibly cut in the middle (a stall or a bad report) at `interrupt` (mod its length). */
type CodeSegment = { code: string; interrupt: number | null };
type Segment<G> = CodeSegment | { garbage: G; pause: boolean };

function segmentsArb<G>(garbage: fc.Arbitrary<G>, interrupts: boolean): fc.Arbitrary<Segment<G>[]> {
  const interrupt = interrupts ? fc.option(fc.nat(), { freq: 4 }) : fc.constant(null);
  return fc.array(
    fc.oneof(fc.record({ code: codeArb, interrupt }), fc.record({ garbage, pause: fc.boolean() })),
    { maxLength: 5 },
  );
}

/** Where a code of `units` reports is cut, if it is (never before the first or after the last). */
function cutAt(segment: CodeSegment, units: number): number | undefined {
  return segment.interrupt === null || units < 2 ? undefined : 1 + (segment.interrupt % (units - 1));
}

/**
 * Codes that must come out: not cut, and preceded by nothing but the start, another code or garbage
 * followed by a pause (garbage right before a code splices into its frame, which is then refused).
 */
function intactCodes<G>(segments: readonly Segment<G>[], cut: (segment: CodeSegment) => boolean): string[] {
  return segments.flatMap((segment, i) => {
    if (!('code' in segment) || cut(segment)) return [];
    const before = segments[i - 1];
    return before === undefined || 'code' in before || before.pause ? [segment.code] : [];
  });
}

function accepted(events: readonly DecoderEvent[]): string[] {
  return events.flatMap((event) =>
    event.kind === 'scan' && filter.validate(event.scan).accepted ? [event.scan.text] : [],
  );
}

describe('decoders under 10,000 random streams each', () => {
  it('keyboard wedge: never decodes a scan that was not sent', () => {
    const SCRUB = new Set([0x28, 0x58, 0x39, 0x53]); // Enter, keypad Enter, CapsLock, NumLock: frame and state keys
    const garbageArb = fc
      .array(fc.uint8Array({ minLength: 0, maxLength: 10 }), { maxLength: 12 })
      .map((reports) =>
        reports.map((report) => {
          const slotsFrom = report.length === 9 ? 3 : 2;
          return report.map((byte, i) => (i >= slotsFrom && SCRUB.has(byte) ? 0 : byte));
        }),
      );
    const TAB = Uint8Array.of(0, 0, 0x2b, 0, 0, 0, 0, 0);
    const RELEASE = new Uint8Array(8);
    fc.assert(
      fc.property(segmentsArb(garbageArb, true), fc.integer({ min: 4, max: 16 }), (segments, interKeyMs) => {
        const decoder = new WedgeDecoder({
          layout: 'us',
          suffix: 'enter',
          interKeyTimeoutMs: 100,
          maxAvgKeyIntervalMs: 30,
          maxScanChars: 2048,
          aimPrefix: 'auto',
        });
        let atMs = 0;
        const stream: TimedReport[] = [];
        for (const segment of segments) {
          if ('code' in segment) {
            const reports = encodeWedge(`]Q1${segment.code}`, {
              layout: 'us',
              suffix: 'enter',
              interKeyMs,
              startMs: atMs,
            });
            const cut = cutAt(segment, reports.length - 1); // not after the suffix press: that scan is whole
            // A stall: the rest of the code reaches the decoder only after its timeout.
            for (const [i, { report, atMs }] of reports.entries())
              stream.push({ report, atMs: atMs + (cut !== undefined && i >= cut ? 150 : 0) });
            atMs = stream[stream.length - 1]!.atMs + 20;
            continue;
          }
          const ending = segment.pause ? [RELEASE] : [RELEASE, TAB, RELEASE];
          for (const report of [...segment.garbage, ...ending]) {
            atMs += 4;
            stream.push({ report, atMs });
          }
          if (segment.pause) atMs += 250;
        }
        const events = stream.flatMap(({ report, atMs }) => pushOnTime(decoder, report, atMs));
        events.push(...decoder.tick(atMs + 10_000));
        expect(decoder.pendingKeys).toBe(0);
        const cut = (segment: CodeSegment) =>
          cutAt(segment, 2 * (3 + segment.code.length + 1) - 1) !== undefined;
        expect(accepted(events)).toEqual(intactCodes(segments, cut));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('HID POS: never decodes a scan that was not sent', () => {
    const garbageArb = fc
      .array(fc.uint8Array({ minLength: 0, maxLength: 70 }), { maxLength: 6 })
      .map((reports) =>
        reports.map((report) => {
          const copy = Uint8Array.from(report);
          if (copy[0] === 2 && copy.length >= 64 && copy[1]! >= 1 && copy[1]! <= 56) copy[5] = 0x01;
          return copy;
        }),
      );
    const aimArb = fc.constantFrom(']Q1', ']C0', ']d2', undefined);
    fc.assert(
      fc.property(
        segmentsArb(garbageArb, true),
        aimArb,
        fc.integer({ min: 0, max: 400 }),
        fc.constantFrom(200, 4096),
        (segments, aimId, cut, maxScanBytes) => {
          const decoder = new HidPosDecoder({ maxScanBytes, interReportTimeoutMs: 100 });
          let atMs = 0;
          const events: DecoderEvent[] = [];
          const framed = (segment: CodeSegment) => frameHidPos(segment.code, { aimId, splitAt: [cut] });
          const interrupted = (segment: CodeSegment) => cutAt(segment, framed(segment).length) !== undefined;
          for (const segment of segments) {
            const reports = 'code' in segment ? framed(segment) : segment.garbage;
            if ('code' in segment && interrupted(segment)) {
              reports.splice(cutAt(segment, reports.length)!, 0, Uint8Array.of(2, 9, 0x5d)); // a short, broken report
            }
            for (const report of reports) {
              atMs += 1;
              events.push(...pushOnTime(decoder, report, atMs));
            }
            if ('pause' in segment && segment.pause) atMs += 250;
          }
          events.push(...decoder.tick(atMs + 10_000));
          expect(decoder.pendingBytes).toBe(0);
          const sent = new Set(segments.flatMap((segment) => ('code' in segment ? [segment.code] : [])));
          const out = accepted(events);
          for (const text of out) expect(sent.has(text)).toBe(true);
          const fits = (code: string) => Buffer.byteLength(code) <= maxScanBytes;
          for (const code of intactCodes(segments, interrupted).filter(fits)) expect(out).toContain(code);
          const cutCodes = segments.filter(
            (segment): segment is CodeSegment => 'code' in segment && interrupted(segment),
          );
          for (const segment of cutCodes)
            if (!intactCodes(segments, interrupted).includes(segment.code))
              expect(out).not.toContain(segment.code);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('serial: never decodes a scan that was not sent', () => {
    // Every CR-free run of garbage starts with 0x01, so any frame garbage touches is refused.
    const garbageArb = fc
      .uint8Array({ minLength: 0, maxLength: 120 })
      .map((bytes) =>
        Buffer.from(`\x01${Buffer.from(bytes).toString('latin1').replaceAll('\r', '\r\x01')}`, 'latin1'),
      );
    fc.assert(
      fc.property(
        segmentsArb(garbageArb, false).map((segments) =>
          segments.map((segment) => ('garbage' in segment ? { ...segment, pause: false } : segment)),
        ),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(24, 4096),
        (segments, chunkSizes, maxScanBytes) => {
          const framer = createSerialFramer({ suffix: 'cr', interByteTimeoutMs: 50, maxScanBytes });
          const events: DecoderEvent[] = [];
          framer.on('data', (frame: Buffer) => {
            const event = serialFrameEvent(frame, { suffix: 'cr', aimPrefix: 'auto' });
            if (event !== undefined) events.push(event);
          });
          framer.on('overflow', () => events.push({ kind: 'rejected', reason: 'too_long', message: '' }));
          const stream = Buffer.concat(
            segments.map((segment) =>
              'code' in segment ? Buffer.from(`]Q1${segment.code}\r`) : segment.garbage,
            ),
          );
          for (let offset = 0, i = 0; offset < stream.length; i++) {
            const size = chunkSizes[i % chunkSizes.length]!;
            framer.write(stream.subarray(offset, offset + size));
            expect(framer.pendingBytes).toBeLessThanOrEqual(maxScanBytes);
            offset += size;
          }
          framer.end();
          const fits = (code: string) => Buffer.byteLength(`]Q1${code}`) <= maxScanBytes;
          expect(accepted(events)).toEqual(intactCodes(segments, () => false).filter(fits));
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
