// HID POS (usage page 0x8C) decoding, pure: 64-byte input reports with report ID 2 → scans.
// Layout (offsets include the report ID, as node-hid returns it): [1] data length in this report (1–56),
// [2..4] AIM identifier, [5..60] data, [61] vendor Code ID, [63] bit 0 = more reports follow.
import { readAimId } from './aim.js';
import { type DecoderEvent, scanFromFrame } from './decoded-scan.js';

export const HID_POS_REPORT_ID = 0x02;
export const HID_POS_REPORT_BYTES = 64;
export const HID_POS_MAX_DATA_BYTES = 56;
const DATA_OFFSET = 5;
const CODE_ID_OFFSET = 61;
const CONTINUED_OFFSET = 63;

export interface HidPosDecoderOptions {
  /** Bound on the label bytes of one scan; a longer scan is dropped whole. */
  maxScanBytes: number;
  /** A continued scan whose next report does not come within this is dropped as truncated. */
  interReportTimeoutMs: number;
}

export class HidPosDecoder {
  readonly #options: HidPosDecoderOptions;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #started = false;
  #overflow = false;
  #aimId: string | undefined;
  /** After a drop: skipping what may be the rest of the dropped scan. */
  #resyncing = false;
  #lastReportAtMs = 0;

  constructor(options: HidPosDecoderOptions) {
    this.#options = options;
  }

  /** Feeds one input report received at `atMs`. Reports with another report ID are ignored. */
  push(report: Uint8Array, atMs: number): DecoderEvent[] {
    const events = this.tick(atMs);
    if (report.length === 0 || report[0] !== HID_POS_REPORT_ID) return events;
    const sinceLastReportMs = atMs - this.#lastReportAtMs;
    this.#lastReportAtMs = atMs;
    const length = report[1] ?? 0;
    const wellFormed =
      report.length >= HID_POS_REPORT_BYTES && length >= 1 && length <= HID_POS_MAX_DATA_BYTES;
    const final = wellFormed && (report[CONTINUED_OFFSET]! & 0x01) === 0;
    if (this.#resyncing) {
      if (sinceLastReportMs <= this.#options.interReportTimeoutMs) {
        if (final) this.#resyncing = false;
        return events; // the rest of a dropped scan
      }
      this.#resyncing = false; // a pause: this report starts a new scan
    }
    if (!wellFormed) {
      events.push(...this.#drop('malformed', `bad report: ${report.length} bytes, data length ${length}`));
      this.#resyncing = true;
      return events;
    }
    const aimId = readAimId(report.subarray(2, 5))?.aimId;
    if (this.#started && aimId !== this.#aimId) {
      events.push(...this.#drop('truncated', 'a new scan began before the previous one ended'));
    }
    this.#started = true;
    this.#aimId = aimId;
    this.#bytes += length;
    if (this.#bytes > this.#options.maxScanBytes) {
      this.#overflow = true;
      this.#chunks = [];
    }
    if (!this.#overflow) this.#chunks.push(report.slice(DATA_OFFSET, DATA_OFFSET + length));
    if (final) events.push(...this.#finish(report[CODE_ID_OFFSET]!));
    return events;
  }

  /** Applies the inter-report timeout as of `atMs`. */
  tick(atMs: number): DecoderEvent[] {
    if (!this.#started || atMs - this.#lastReportAtMs <= this.#options.interReportTimeoutMs) return [];
    const events = this.#drop('truncated', `no final report within ${this.#options.interReportTimeoutMs} ms`);
    // Reports that follow within the timeout may be the rest of this very scan, held up by an
    // event-loop stall: skip them up to a final report, so that a tail is never decoded as a scan.
    this.#resyncing = true;
    this.#lastReportAtMs = atMs;
    return events;
  }

  nextDeadlineMs(): number | undefined {
    return this.#started ? this.#lastReportAtMs + this.#options.interReportTimeoutMs + 1 : undefined;
  }

  /** Label bytes of an unfinished scan, 0 when idle. */
  get pendingBytes(): number {
    return this.#started ? this.#bytes : 0;
  }

  reset(): void {
    this.#clear();
    this.#resyncing = false;
  }

  #finish(codeIdByte: number): DecoderEvent[] {
    if (this.#overflow) {
      const bytes = this.#bytes;
      this.#clear();
      return [
        { kind: 'rejected', reason: 'too_long', message: `scan of ${bytes} bytes over the cap dropped` },
      ];
    }
    const label = Buffer.concat(this.#chunks);
    const aimId = this.#aimId;
    this.#clear();
    const raw = aimId === undefined ? label : Buffer.concat([Buffer.from(aimId, 'latin1'), label]);
    const codeId = codeIdByte > 0x20 && codeIdByte < 0x7f ? String.fromCharCode(codeIdByte) : undefined;
    const options =
      aimId === undefined ? { aimPrefix: 'none' as const } : { aimPrefix: 'none' as const, aimId };
    return [scanFromFrame(raw, label, codeId === undefined ? options : { ...options, codeId })];
  }

  #drop(reason: 'malformed' | 'truncated', message: string): DecoderEvent[] {
    const pending = this.#started;
    const bytes = this.#bytes;
    this.#clear();
    if (!pending && reason === 'truncated') return [];
    const detail = pending ? ` (${bytes} bytes of an unfinished scan dropped)` : '';
    return [{ kind: 'rejected', reason, message: message + detail }];
  }

  #clear(): void {
    for (const chunk of this.#chunks) chunk.fill(0);
    this.#chunks = [];
    this.#bytes = 0;
    this.#started = false;
    this.#overflow = false;
    this.#aimId = undefined;
  }
}
