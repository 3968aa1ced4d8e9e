// HidPosScanner over a fake node-hid backend: device choice, vendor init, timeouts, caps, polling, backoff.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ScannerConfigInput, ScannerConfigSchema } from './config.js';
import { createScanner } from './factory.js';
import type { Scan, Scanner, ScannerStatus } from './scanner.js';
import { PC1_CODE, until } from './scanner-contract.case.js';
import { FakeHidBackend, frameHidPos, hidPosDeviceInfo, keyboardDeviceInfo } from './simulators.js';

const logger = pino({ level: 'silent' });
const info = hidPosDeviceInfo();
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
    type: 'hid-pos',
    id: 'pos-1',
    vendorId: '0c2e',
    dedupeWindowMs: 0,
    reconnectInitialDelayMs: 5,
    reconnectMaxDelayMs: 20,
    presencePollMs: 0,
    ...config,
  });
  const scanner = createScanner(parsed, { logger, hid: backend, random: () => 0.5 });
  const harness: Harness = { scanner, backend, scans: [], statuses: [] };
  scanner.on('scan', (scan) => harness.scans.push(scan));
  scanner.on('status', (status) => harness.statuses.push(status));
  current = harness;
  await scanner.open();
  await scanner.claim();
  await scanner.enable();
  return harness;
}

function send(harness: Harness, reports: Uint8Array[]): void {
  for (const report of reports) harness.backend.device(PATH)?.emitReport(report);
}

afterEach(async () => {
  await current?.scanner.close();
  current = undefined;
  vi.useRealTimers();
});

describe('HidPosScanner', () => {
  it('opens the HID POS collection, not the keyboard interface of the same device', async () => {
    const keyboard = keyboardDeviceInfo({ vendorId: 0x0c2e, path: '/dev/hidraw-kbd' });
    const h = await start({}, new FakeHidBackend([keyboard, info]));
    expect(h.backend.device(PATH)).toBeDefined();
    expect(h.backend.device('/dev/hidraw-kbd')).toBeUndefined();
  });

  it('puts Honeywell scanners in HID POS mode with feature report 0xFE', async () => {
    const h = await start({ vendorInit: 'honeywell' });
    expect(h.backend.device(PATH)!.featureReports).toEqual([Buffer.from([0xfe, 0x01])]);
  });

  it('delivers the 301-character PC1 code split at every byte boundary', async () => {
    const h = await start();
    for (let cut = 1; cut < PC1_CODE.length; cut++)
      send(h, frameHidPos(PC1_CODE, { aimId: ']Q1', splitAt: [cut] }));
    expect(h.scans).toHaveLength(PC1_CODE.length - 1);
    expect(h.scans.every((scan) => scan.text === PC1_CODE && scan.symbology === 'qr')).toBe(true);
  });

  it('times out a truncated sequence: an error status, no scan', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = await start({ interReportTimeoutMs: 100 });
    send(h, frameHidPos(PC1_CODE, { aimId: ']Q1' }).slice(0, 3));
    await vi.advanceTimersByTimeAsync(150);
    expect(h.scans).toEqual([]);
    expect(h.statuses.at(-1)).toMatchObject({ status: 'error', code: 'E_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(500);
    send(h, frameHidPos('PC1:NEXT', { aimId: ']Q1' }));
    expect(h.scans.map((scan) => scan.text)).toEqual(['PC1:NEXT']);
  });

  it('drops a scan over the byte cap and reports it', async () => {
    const h = await start({ maxScanBytes: 128 });
    send(h, frameHidPos('D'.repeat(500), { aimId: ']d2' }));
    send(h, frameHidPos('SMALL-OK', { aimId: ']d2' }));
    expect(h.scans.map((scan) => scan.text)).toEqual(['SMALL-OK']);
    expect(h.statuses.at(-1)).toMatchObject({ status: 'error', code: 'E_DATA' });
    expect(h.statuses.at(-1)!.message).toMatch(/too_long/);
  });

  it('refuses symbologies the lane does not allow', async () => {
    const h = await start({ allowedSymbologies: ['qr'] });
    send(h, frameHidPos('4901234567894', { aimId: ']E0' }));
    send(h, frameHidPos('PC1:OK-QR', { aimId: ']Q1' }));
    expect(h.scans.map((scan) => scan.text)).toEqual(['PC1:OK-QR']);
  });

  it('notices an unplug that raised no error by polling the device list, and the replug', async () => {
    const h = await start({ presencePollMs: 20 });
    h.backend.unplug(PATH, { silent: true });
    await until(() => h.statuses.some((s) => s.status === 'detached'), 2000, 'detached by polling');
    expect(h.statuses.at(-1)).toMatchObject({ code: 'E_OFFLINE' });
    h.backend.plug(info);
    await until(() => h.scanner.attached, 2000, 'reattached');
    send(h, frameHidPos('PC1:AFTER', { aimId: ']Q1' }));
    expect(h.scans.map((scan) => scan.text)).toEqual(['PC1:AFTER']);
  });

  it('starts without its device, says so once, and attaches when it is plugged in', async () => {
    const backend = new FakeHidBackend([]);
    const h = await start({}, backend);
    expect(h.scanner.attached).toBe(false);
    expect(h.statuses).toEqual([expect.objectContaining({ status: 'detached', code: 'E_NOHARDWARE' })]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(h.statuses).toHaveLength(1);
    backend.plug(info);
    await until(() => h.scanner.attached, 2000, 'attached');
    expect(h.statuses.at(-1)).toMatchObject({ status: 'attached' });
  });

  it('retries with capped exponential backoff', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const backend = new FakeHidBackend([]);
    await start({ reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 400 }, backend);
    const attemptsAt: number[] = [];
    let last = backend.enumerations;
    for (let t = 0; t < 2000; t += 10) {
      await vi.advanceTimersByTimeAsync(10);
      if (backend.enumerations !== last) attemptsAt.push(t + 10);
      last = backend.enumerations;
    }
    // Delays 100, 200, 400, 400, 400 (no jitter at random() = 0.5).
    expect(attemptsAt.slice(0, 6)).toEqual([100, 300, 700, 1100, 1500, 1900]);
  });

  it('explains an open that fails for lack of permission', async () => {
    const backend = new FakeHidBackend([info]);
    backend.openError = new Error('cannot open device with path /dev/hidraw-pos0');
    const h = await start({}, backend);
    expect(h.statuses[0]).toMatchObject({ status: 'detached', code: 'E_FAILURE' });
    expect(h.statuses[0]!.message).toMatch(/udev rule/);
  });

  it('ignores a listener that throws and keeps reading', async () => {
    const h = await start();
    h.scanner.on('scan', () => {
      throw new Error('listener bug');
    });
    send(h, frameHidPos('PC1:FIRST', { aimId: ']Q1' }));
    send(h, frameHidPos('PC1:SECOND', { aimId: ']Q1' }));
    expect(h.scans.map((scan) => scan.text)).toEqual(['PC1:FIRST', 'PC1:SECOND']);
  });

  it('does not let two scanners claim one device', async () => {
    const h = await start();
    const other = createScanner(
      ScannerConfigSchema.parse({ type: 'hid-pos', id: 'pos-1', presencePollMs: 0 }),
      {
        logger,
        hid: new FakeHidBackend([]),
      },
    );
    await other.open();
    await expect(other.claim(30)).rejects.toMatchObject({ code: 'E_CLAIMED' });
    await h.scanner.close();
    await other.claim(30);
    await other.close();
  });
});
