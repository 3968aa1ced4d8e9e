// SerialScanner over MockBinding: splits, port discovery, no udevadm, caps, no-suffix framing, locked ports.
import pino from 'pino';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ScannerConfigInput, ScannerConfigSchema } from './config.js';
import { createScanner } from './factory.js';
import type { Scan, Scanner, ScannerStatus } from './scanner.js';
import { PC1_CODE, quiet, until } from './scanner-contract.case.js';
import { type SerialBinding, SerialScanner } from './serial.js';
import { UnpluggableMockBinding } from './simulators.js';

const logger = pino({ level: 'silent' });
const MockBinding = SerialPortMock.binding;

interface Harness {
  scanner: Scanner;
  scans: Scan[];
  statuses: ScannerStatus[];
}

let current: Harness | undefined;

async function start(
  config: Partial<ScannerConfigInput>,
  binding: SerialBinding,
  pathExists?: (path: string) => Promise<boolean>,
) {
  const parsed = ScannerConfigSchema.parse({
    type: 'serial',
    id: 'ser-1',
    dedupeWindowMs: 0,
    reconnectInitialDelayMs: 5,
    reconnectMaxDelayMs: 20,
    presencePollMs: 0,
    ...config,
  });
  const scanner = createScanner(parsed, {
    logger,
    serialBinding: binding,
    ...(pathExists ? { pathExists } : {}),
  });
  const harness: Harness = { scanner, scans: [], statuses: [] };
  scanner.on('scan', (scan) => harness.scans.push(scan));
  scanner.on('status', (status) => harness.statuses.push(status));
  current = harness;
  await scanner.open();
  await scanner.claim();
  await scanner.enable();
  return harness;
}

afterEach(async () => {
  vi.useRealTimers();
  await current?.scanner.close();
  current = undefined;
  MockBinding.reset();
});

describe('SerialScanner', () => {
  it('delivers the 301-character PC1 code split at every byte boundary', async () => {
    MockBinding.createPort('/dev/ttyS9');
    const binding = new UnpluggableMockBinding();
    const h = await start({ path: '/dev/ttyS9', suffix: 'crlf' }, binding);
    const raw = `]Q1${PC1_CODE}\r\n`;
    for (let cut = 1; cut < raw.length; cut++) {
      binding.emitData('/dev/ttyS9', raw.slice(0, cut));
      await new Promise((resolve) => setImmediate(resolve));
      binding.emitData('/dev/ttyS9', raw.slice(cut));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => h.scans.length === raw.length - 1, 5000, 'every split delivered');
    expect(h.scans.every((scan) => scan.text === PC1_CODE && scan.aimId === ']Q1')).toBe(true);
  });

  it('finds its port by vendor and product id among others', async () => {
    MockBinding.createPort('/dev/ttyUSB0', { vendorId: '1a86', productId: '7523' });
    MockBinding.createPort('/dev/ttyACM0', { vendorId: '0c2e', productId: '0b61' });
    const binding = new UnpluggableMockBinding();
    const h = await start({ vendorId: '0c2e', productId: '0x0b61' }, binding);
    expect(binding.isOpen('/dev/ttyACM0')).toBe(true);
    expect(binding.isOpen('/dev/ttyUSB0')).toBe(false);
    binding.emitData('/dev/ttyACM0', ']Q1PC1:FOUND\r');
    await until(() => h.scans.length === 1, 2000, 'scan');
  });

  it('opens its configured path when listing ports fails (no udevadm in a container)', async () => {
    MockBinding.createPort('/dev/ttyS3');
    const inner = new UnpluggableMockBinding();
    const binding: SerialBinding = {
      list: async () => {
        throw new Error('spawn udevadm ENOENT');
      },
      open: (options) => inner.open(options),
    };
    const h = await start({ path: '/dev/ttyS3', vendorId: '0c2e' }, binding, async () => true);
    expect(h.scanner.attached).toBe(true);
    inner.emitData('/dev/ttyS3', ']Q1PC1:NO-UDEV\r');
    await until(() => h.scans.length === 1, 2000, 'scan');
  });

  it('drops a frame over the byte cap whole and reports it', async () => {
    MockBinding.createPort('/dev/ttyS4', { maxReadSize: 13 });
    const binding = new UnpluggableMockBinding();
    const h = await start({ path: '/dev/ttyS4', maxScanBytes: 64 }, binding);
    binding.emitData('/dev/ttyS4', `]Q1${'Q'.repeat(500)}\r]Q1PC1:AFTER\r`);
    await until(() => h.scans.length === 1, 2000, 'the scan after');
    expect(h.scans[0]!.text).toBe('PC1:AFTER');
    expect(h.statuses).toContainEqual(expect.objectContaining({ status: 'error', code: 'E_DATA' }));
  });

  it('frames a scanner without suffix by the pause after each scan', async () => {
    MockBinding.createPort('/dev/ttyS5', { maxReadSize: 5 });
    const binding = new UnpluggableMockBinding();
    const h = await start({ path: '/dev/ttyS5', suffix: 'none', interByteTimeoutMs: 15 }, binding);
    binding.emitData('/dev/ttyS5', ']Q1PC1:FIRST-ONE');
    await quiet(60);
    binding.emitData('/dev/ttyS5', ']C0SECOND-1');
    await until(() => h.scans.length === 2, 2000, 'two scans');
    expect(h.scans.map((scan) => [scan.text, scan.symbology])).toEqual([
      ['PC1:FIRST-ONE', 'qr'],
      ['SECOND-1', 'code128'],
    ]);
  });

  it('waits for a port that is not there yet, then attaches', async () => {
    const binding = new UnpluggableMockBinding();
    const h = await start({ path: '/dev/ttyLATE', vendorId: '0c2e' }, binding);
    expect(h.statuses[0]).toMatchObject({ status: 'detached', code: 'E_NOHARDWARE' });
    MockBinding.createPort('/dev/ttyLATE', { vendorId: '0c2e' });
    await until(() => h.scanner.attached, 2000, 'attached');
    expect(h.statuses.at(-1)).toMatchObject({ status: 'attached' });
  });

  it('reports a port held by another program and retries', async () => {
    MockBinding.createPort('/dev/ttyS6');
    const holder = new SerialPortMock({ path: '/dev/ttyS6', baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => holder.open((error) => (error ? reject(error) : resolve())));
    const binding = new UnpluggableMockBinding();
    const h = await start({ path: '/dev/ttyS6' }, binding);
    expect(h.statuses[0]).toMatchObject({ status: 'detached', code: 'E_FAILURE' });
    expect(h.statuses[0]!.message).toMatch(/locked/);
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await until(() => h.scanner.attached, 2000, 'attached once released');
  });

  it('polls a port named by its path alone by its device node, and lists ports only once the node is gone', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    MockBinding.createPort('/dev/ttyS8');
    const inner = new UnpluggableMockBinding();
    let listings = 0; // on Linux each one spawns udevadm
    const binding: SerialBinding = {
      list: () => {
        listings++;
        return inner.list();
      },
      open: (options) => inner.open(options),
    };
    let nodeThere = true;
    let nodeChecks = 0;
    const h = await start({ path: '/dev/ttyS8', presencePollMs: 1000 }, binding, async () => {
      nodeChecks++;
      return nodeThere;
    });
    expect(h.scanner.attached).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(nodeChecks).toBeGreaterThanOrEqual(5);
    expect(listings).toBe(0);
    // Pulled without an error on the stream: the node goes, and the list (which no longer has it) is asked.
    nodeThere = false;
    inner.unplug('/dev/ttyS8');
    await vi.advanceTimersByTimeAsync(1000);
    expect(listings).toBeGreaterThan(0);
    expect(h.statuses).toContainEqual(expect.objectContaining({ status: 'detached', code: 'E_OFFLINE' }));
  });

  it('is a SerialScanner', async () => {
    MockBinding.createPort('/dev/ttyS7');
    const h = await start({ path: '/dev/ttyS7' }, new UnpluggableMockBinding());
    expect(h.scanner).toBeInstanceOf(SerialScanner);
    expect(h.scanner.transport).toBe('serial');
  });
});
