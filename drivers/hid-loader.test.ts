// node-hid's native library missing: simulated by making `import('node-hid')` fail in this file.
import pino from 'pino';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScannerConfigSchema } from './config.js';
import { listDevices } from './devices-command.js';
import { createScanner } from './factory.js';
import { loadHidBackend, type NodeHidModule } from './hid-loader.js';
import type { ScannerStatus } from './scanner.js';
import { until } from './scanner-contract.case.js';
import { UnpluggableMockBinding } from './simulators.js';

vi.mock('node-hid', () => {
  throw new Error('libusb-1.0.so.0: cannot open shared object file: No such file or directory');
});

const logger = pino({ level: 'silent' });

afterEach(() => {
  SerialPortMock.binding.reset();
});

describe('node-hid loaded lazily', () => {
  it('fails with E_NOSERVICE and a message naming libusb-1.0 and hidraw permissions', async () => {
    const error = await loadHidBackend().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_NOSERVICE' });
    const message = (error as Error).message;
    expect(message).toMatch(/node-hid could not be loaded/);
    expect(message).toMatch(/libusb-1\.0\.so\.0: cannot open shared object file/); // the cause itself
    expect(message).toMatch(/apt-get install libusb-1\.0-0/);
    expect(message).toMatch(/\/dev\/hidraw/);
    expect(message).toMatch(/serial and simulated scanners keep working/);
  });

  it('reports E_NOSERVICE when the import works but the native library fails at the first call', async () => {
    const importer = async (): Promise<NodeHidModule> => ({
      devicesAsync: async () => {
        throw new Error('libusb-1.0.so.0: cannot open shared object file');
      },
      HIDAsync: { open: async () => Promise.reject(new Error('unreachable')) },
    });
    const error = await loadHidBackend(importer).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_NOSERVICE' });
    expect((error as Error).message).toMatch(/libusb-1\.0\.so\.0/);
  });

  it('tries the import once and remembers the outcome', async () => {
    let imports = 0;
    const importer = async (): Promise<NodeHidModule> => {
      imports++;
      throw new Error('no hidraw');
    };
    await expect(loadHidBackend(importer)).rejects.toMatchObject({ code: 'E_NOSERVICE' });
    await expect(loadHidBackend(importer)).rejects.toMatchObject({ code: 'E_NOSERVICE' });
    expect(imports).toBe(1);
  });

  it('puts a HID scanner in the error state with the reason, while a serial scanner keeps working', async () => {
    const hidScanner = createScanner(ScannerConfigSchema.parse({ type: 'hid-pos', id: 'pos-1' }), { logger });
    const statuses: ScannerStatus[] = [];
    hidScanner.on('status', (status) => statuses.push(status));
    await hidScanner.open();
    expect(hidScanner.state).toBe('error');
    expect(statuses).toEqual([expect.objectContaining({ status: 'error', code: 'E_NOSERVICE' })]);
    expect(statuses[0]!.message).toMatch(/libusb-1\.0/);

    SerialPortMock.binding.createPort('/dev/ttyS1');
    const binding = new UnpluggableMockBinding();
    const serial = createScanner(
      ScannerConfigSchema.parse({ type: 'serial', id: 'ser-1', path: '/dev/ttyS1', presencePollMs: 0 }),
      {
        logger,
        serialBinding: binding,
      },
    );
    const texts: string[] = [];
    serial.on('scan', (scan) => texts.push(scan.text));
    await serial.open();
    await serial.claim();
    await serial.enable();
    binding.emitData('/dev/ttyS1', ']Q1PC1:STILL-WORKS\r');
    await until(() => texts.length === 1, 2000, 'serial scan');
    expect(texts).toEqual(['PC1:STILL-WORKS']);
    await Promise.all([hidScanner.close(), serial.close()]);
  });

  it('lets `devices` list serial ports and report why HID is unavailable', async () => {
    const reports = await listDevices({ serialList: async () => [] });
    expect(reports).toEqual([
      { kind: 'unavailable', transport: 'hid', reason: expect.stringMatching(/libusb-1\.0/) },
    ]);
  });
});
