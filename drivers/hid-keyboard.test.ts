// HidKeyboardScanner over a fake node-hid backend: splits, layout mismatch, human typing, device naming.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ScannerConfigInput, ScannerConfigSchema } from './config.js';
import { createScanner } from './factory.js';
import type { Scan, Scanner, ScannerStatus } from './scanner.js';
import { PC1_CODE } from './scanner-contract.case.js';
import { encodeWedge, FakeHidBackend, keyboardDeviceInfo, type TimedReport } from './simulators.js';

const logger = pino({ level: 'silent' });
const info = keyboardDeviceInfo();
const PATH = info.path!;

interface Harness {
  scanner: Scanner;
  backend: FakeHidBackend;
  scans: Scan[];
  statuses: ScannerStatus[];
}

let current: Harness | undefined;

async function start(
  config: Partial<ScannerConfigInput> = {},
  backend = new FakeHidBackend([info]),
): Promise<Harness> {
  const parsed = ScannerConfigSchema.parse({
    type: 'hid-keyboard',
    id: 'kbd-1',
    vendorId: 0x05f9,
    dedupeWindowMs: 0,
    reconnectInitialDelayMs: 5,
    presencePollMs: 0,
    ...config,
  });
  const scanner = createScanner(parsed, { logger, hid: backend });
  const harness: Harness = { scanner, backend, scans: [], statuses: [] };
  scanner.on('scan', (scan) => harness.scans.push(scan));
  scanner.on('status', (status) => harness.statuses.push(status));
  current = harness;
  await scanner.open();
  await scanner.claim();
  await scanner.enable();
  return harness;
}

/** Plays reports at their times on the fake clock. */
async function play(harness: Harness, reports: readonly TimedReport[]): Promise<void> {
  const startMs = Date.now();
  for (const { report, atMs } of reports) {
    const waitMs = startMs + atMs - Date.now();
    if (waitMs > 0) await vi.advanceTimersByTimeAsync(waitMs);
    harness.backend.device(PATH)?.emitReport(report);
  }
  await vi.advanceTimersByTimeAsync(1000);
}

afterEach(async () => {
  await current?.scanner.close();
  current = undefined;
  vi.useRealTimers();
});

/**
 * The reports of one scan arrive within a millisecond; a loaded machine can stall this loop past the inter-key
 * timeout, which would cut the scan. The clock is held still so that these tests check decoding, not the machine.
 */
function holdClock(): void {
  vi.useFakeTimers({ toFake: ['Date'] });
}

describe('HidKeyboardScanner', () => {
  it('decodes the 301-character PC1 code split at every report boundary', async () => {
    holdClock();
    const h = await start();
    const reports = encodeWedge(`]Q1${PC1_CODE}`, { layout: 'us', suffix: 'enter' });
    for (let cut = 1; cut < reports.length; cut++) {
      for (const { report } of reports.slice(0, cut)) h.backend.device(PATH)!.emitReport(report);
      await new Promise((resolve) => setImmediate(resolve));
      for (const { report } of reports.slice(cut)) h.backend.device(PATH)!.emitReport(report);
    }
    expect(h.scans).toHaveLength(reports.length - 1);
    expect(h.scans.every((scan) => scan.text === PC1_CODE && scan.aimId === ']Q1')).toBe(true);
  });

  it('refuses the garbled read of a US-set scanner on a JIS lane and says what to change', async () => {
    holdClock();
    const h = await start({ layout: 'jp106' });
    for (const { report } of encodeWedge(PC1_CODE, { layout: 'us', suffix: 'enter' })) {
      h.backend.device(PATH)!.emitReport(report);
    }
    expect(h.scans).toEqual([]);
    expect(h.statuses.at(-1)).toMatchObject({ status: 'error', code: 'E_DATA' });
    expect(h.statuses.at(-1)!.message).toMatch(/layout_mismatch: scanner seems set to keyboard country us/);
  });

  it('reads a JIS-set scanner on a JIS lane', async () => {
    holdClock();
    const h = await start({ layout: 'jp106' });
    for (const { report } of encodeWedge(PC1_CODE, { layout: 'jp106', suffix: 'enter' })) {
      h.backend.device(PATH)!.emitReport(report);
    }
    expect(h.scans.map((scan) => scan.text)).toEqual([PC1_CODE]);
  });

  it('rejects human-speed typing and still reads the scanner after it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = await start();
    await play(h, encodeWedge('88123456789012345678', { layout: 'us', suffix: 'enter', interKeyMs: 200 }));
    await play(h, encodeWedge('88123456789012345678', { layout: 'us', suffix: 'enter', interKeyMs: 70 }));
    expect(h.scans).toEqual([]);
    expect(h.statuses.map((status) => status.message)).toContainEqual(expect.stringMatching(/^human_typing/));
    await play(h, encodeWedge('88123456789012345678', { layout: 'us', suffix: 'enter', interKeyMs: 8 }));
    expect(h.scans.map((scan) => scan.text)).toEqual(['88123456789012345678']);
  });

  it('drops a scan cut by a pause; with AIM identifiers required, its rest is refused too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = await start({ interKeyTimeoutMs: 50, aimPrefix: 'required' });
    const reports = encodeWedge(']Q1PC1:CUT-IN-TWO', { layout: 'us', suffix: 'enter' });
    await play(h, reports.slice(0, 16)); // then the scanner stalls for a second
    await play(h, reports.slice(16));
    expect(h.scans).toEqual([]);
    expect(h.statuses.map((status) => status.code)).toEqual([undefined, 'E_TIMEOUT', 'E_DATA']); // attached first
    expect(h.statuses.at(-1)!.message).toMatch(/missing_aim/);
    await play(h, encodeWedge(']Q1PC1:WHOLE', { layout: 'us', suffix: 'enter' }));
    expect(h.scans.map((scan) => scan.text)).toEqual(['PC1:WHOLE']);
  });

  it('never opens a keyboard its config does not name', async () => {
    const stranger = keyboardDeviceInfo({ vendorId: 0x046d, path: '/dev/hidraw-logitech' });
    const h = await start({}, new FakeHidBackend([stranger]));
    expect(h.backend.device('/dev/hidraw-logitech')).toBeUndefined();
    expect(h.statuses[0]).toMatchObject({ status: 'detached', code: 'E_NOHARDWARE' });
  });

  it('cannot be configured without naming the device', () => {
    const result = ScannerConfigSchema.safeParse({ type: 'hid-keyboard', id: 'kbd-x' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toMatch(/never reads an arbitrary keyboard/);
  });
});
