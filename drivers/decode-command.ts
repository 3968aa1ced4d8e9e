// `tillgate decode`: a field technician's capture (reports as hex lines on stdin) → the scans the
// driver would decode, as JSON lines, with warnings for what it would refuse. A local diagnostic: it
// prints scan text, which the drivers never log.
//
// Input: one report per line for hid-keyboard (8 bytes, or 9 with a report ID) and hid-pos (64 bytes);
// any chunk of bytes per line for serial. Bytes as hex, with or without spaces, commas or `0x`. A line may
// start with `@<ms>` to give its arrival time (else reports are taken as 4 ms apart, scanner speed).
// Blank lines and `#` comments are skipped; a bad line gives an error line and decoding goes on.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { type ScannerConfig, ScannerConfigSchema } from './config.js';
import { type DecoderEvent, pushOnTime } from './decoded-scan.js';
import { filterOptions } from './factory.js';
import { HidPosDecoder } from './hidpos-decoder.js';
import type { KeyboardLayoutName } from './keyboard-layouts.js';
import { ScanFilter } from './scan-filter.js';
import type { ScannerTransport } from './scanner.js';
import { createSerialFramer, serialFrameEvent } from './serial-framer.js';
import { WedgeDecoder } from './wedge-decoder.js';

export type DecodeTransport = Exclude<ScannerTransport, 'simulated'>;

export interface DecodeOptions {
  transport: DecodeTransport;
  layout?: KeyboardLayoutName;
  /** The scanner's suffix: enter|tab|none for hid-keyboard, cr|lf|crlf|none for serial. */
  suffix?: string;
}

/** Time between reports when the capture carries no timestamps: a scanner at an 8 ms poll interval. */
const SYNTHETIC_REPORT_INTERVAL_MS = 4;

interface LineDecoder {
  /** Feeds one line's bytes; returns the events they complete. */
  push(bytes: Buffer, atMs: number): DecoderEvent[];
  /** What an end of input in the middle of a scan means. */
  end(atMs: number): DecoderEvent[];
  /** Why these bytes cannot be one input unit, if they cannot. */
  check(bytes: Buffer): string | undefined;
}

export async function runDecode(options: DecodeOptions, input: Readable, output: Writable): Promise<number> {
  const print = (line: Record<string, unknown>): void => {
    output.write(`${JSON.stringify(line)}\n`);
  };
  const parsed = ScannerConfigSchema.safeParse(configFor(options));
  if (!parsed.success) {
    print({ error: `bad decode options: ${parsed.error.issues.map((issue) => issue.message).join('; ')}` });
    return 2;
  }
  const config = parsed.data;
  const decoder = lineDecoder(config);
  const filter = new ScanFilter(filterOptions(config));
  const report = (events: DecoderEvent[], line: number): void => {
    for (const event of events) print(describe(event, config.type, filter, line));
  };
  let lineNumber = 0;
  let atMs = 0;
  let bad = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    const line = parseLine(text);
    if (line === undefined) continue;
    const problem = 'error' in line ? line.error : decoder.check(line.bytes);
    if ('error' in line || problem !== undefined) {
      bad++;
      print({ error: `line ${lineNumber}: ${problem}`, line: lineNumber });
      continue;
    }
    atMs = line.atMs ?? atMs + SYNTHETIC_REPORT_INTERVAL_MS;
    report(decoder.push(line.bytes, atMs), lineNumber);
  }
  report(decoder.end(atMs), lineNumber);
  return bad === 0 ? 0 : 1;
}

function configFor(options: DecodeOptions): Record<string, unknown> {
  const config: Record<string, unknown> = { type: options.transport, id: 'stdin', path: 'stdin' };
  if (options.layout !== undefined) config.layout = options.layout;
  if (options.suffix !== undefined) config.suffix = options.suffix;
  return config;
}

function lineDecoder(config: ScannerConfig): LineDecoder {
  switch (config.type) {
    case 'hid-keyboard': {
      const { layout, suffix, interKeyTimeoutMs, maxAvgKeyIntervalMs, maxScanChars, aimPrefix } = config;
      const decoder = new WedgeDecoder({
        layout,
        suffix,
        interKeyTimeoutMs,
        maxAvgKeyIntervalMs,
        maxScanChars,
        aimPrefix,
      });
      return {
        push: (bytes, atMs) => pushOnTime(decoder, bytes, atMs), // timeouts run as a timer would
        end: (atMs) =>
          endOfInput(decoder.pendingKeys, 'keys', () => decoder.tick(atMs + interKeyTimeoutMs + 1)),
        check: (bytes) =>
          bytes.length === 8 || bytes.length === 9
            ? undefined
            : `${bytes.length} bytes, a keyboard report has 8 (9 with a report ID)`,
      };
    }
    case 'hid-pos': {
      const decoder = new HidPosDecoder({
        maxScanBytes: config.maxScanBytes,
        interReportTimeoutMs: config.interReportTimeoutMs,
      });
      return {
        push: (bytes, atMs) => pushOnTime(decoder, bytes, atMs), // timeouts run as a timer would
        end: () => endOfInput(decoder.pendingBytes, 'bytes', () => []),
        check: (bytes) =>
          bytes.length === 64
            ? undefined
            : `${bytes.length} bytes, a HID POS report has 64 (report ID included)`,
      };
    }
    case 'serial':
      return serialLineDecoder(config);
    case 'simulated':
      throw new TypeError('nothing to decode for a simulated scanner');
  }
}

function serialLineDecoder(config: Extract<ScannerConfig, { type: 'serial' }>): LineDecoder {
  const framer = createSerialFramer(config);
  const events: DecoderEvent[] = [];
  framer.on('data', (frame: Buffer) => {
    const event = serialFrameEvent(frame, config);
    if (event !== undefined) events.push(event);
  });
  framer.on('overflow', () => {
    events.push({
      kind: 'rejected',
      reason: 'too_long',
      message: `frame over ${config.maxScanBytes} bytes dropped`,
    });
  });
  const take = (): DecoderEvent[] => events.splice(0);
  return {
    push: (bytes) => {
      framer.write(bytes); // the parsers frame synchronously
      if (config.suffix === 'none') framer.endFrame(); // without timestamps, a line is a burst
      return take();
    },
    end: () => endOfInput(framer.pendingBytes, 'bytes', take),
    check: (bytes) => (bytes.length === 0 ? 'no bytes' : undefined),
  };
}

/** At end of input an unfinished scan is a truncated capture; `flush` gives what the decoder makes of it. */
function endOfInput(pending: number, unit: string, flush: () => DecoderEvent[]): DecoderEvent[] {
  const events = flush();
  if (pending === 0 || events.length > 0) return events;
  return [
    {
      kind: 'rejected',
      reason: 'truncated',
      message: `input ended inside a scan (${pending} ${unit} pending)`,
    },
  ];
}

function describe(
  event: DecoderEvent,
  transport: ScannerTransport,
  filter: ScanFilter,
  line: number,
): Record<string, unknown> {
  if (event.kind === 'rejected') {
    const warning: Record<string, unknown> = { warning: event.reason, message: event.message, line };
    if (event.likelyLayout !== undefined) warning.likelyLayout = event.likelyLayout;
    return warning;
  }
  const { scan } = event;
  const fields: Record<string, unknown> = { deviceId: 'stdin', transport, symbology: scan.symbology };
  if (scan.aimId !== undefined) fields.aimId = scan.aimId;
  Object.assign(fields, { length: [...scan.text].length, text: scan.text, line });
  const verdict = filter.validate(scan);
  if (!verdict.accepted)
    return {
      warning: verdict.reason,
      message: `the driver would refuse this scan: ${verdict.message}`,
      ...fields,
    };
  return fields;
}

type ParsedLine = { bytes: Buffer; atMs?: number } | { error: string };

/** One input line → bytes (and a timestamp), an error, or undefined for a blank or comment line. */
export function parseLine(text: string): ParsedLine | undefined {
  let body = text.replace(/#.*$/, '').trim();
  if (body === '') return undefined;
  let atMs: number | undefined;
  const stamp = /^@(\d+(?:\.\d+)?)\s*/.exec(body);
  if (stamp !== null) {
    atMs = Number(stamp[1]);
    body = body.slice(stamp[0].length);
  }
  let hex = '';
  for (const token of body.split(/[\s,;:]+/).filter((t) => t !== '')) {
    const digits = token.replace(/^0x/i, '');
    if (!/^[0-9a-fA-F]+$/.test(digits)) return { error: `not hex: ${JSON.stringify(token.slice(0, 16))}` };
    if (digits.length % 2 === 1) {
      if (digits.length > 1)
        return { error: `odd number of hex digits in ${JSON.stringify(token.slice(0, 16))}` };
      hex += `0${digits}`;
    } else {
      hex += digits;
    }
  }
  if (hex === '') return { error: 'no bytes' };
  const bytes = Buffer.from(hex, 'hex');
  return atMs === undefined ? { bytes } : { bytes, atMs };
}
