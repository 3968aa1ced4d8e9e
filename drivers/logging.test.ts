// Scan contents are bearer credentials: drive every transport through accepted, duplicate and refused
// reads with debug logging on, and grep the logs for any piece of the pay code.
import { Writable } from 'node:stream';
import pino from 'pino';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { ScannerConfigSchema } from './config.js';
import { createScanner } from './factory.js';
import type { Scanner } from './scanner.js';
import { PC1_CODE, quiet, until } from './scanner-contract.case.js';
import type { SimulatedScanner } from './simulated.js';
import {
  encodeWedge,
  FakeHidBackend,
  frameHidPos,
  hidPosDeviceInfo,
  keyboardDeviceInfo,
  UnpluggableMockBinding,
} from './simulators.js';

afterEach(() => {
  SerialPortMock.binding.reset();
});

describe('driver logs', () => {
  it('never contain a scanned code, only its masked form', async () => {
    let logs = '';
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        logs += chunk.toString();
        callback();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const common = { dedupeWindowMs: 5000, presencePollMs: 0, allowedSymbologies: ['qr'] };
    const hid = new FakeHidBackend([hidPosDeviceInfo(), keyboardDeviceInfo()]);
    SerialPortMock.binding.createPort('/dev/ttyLOG');
    const binding = new UnpluggableMockBinding();
    const scanners: Scanner[] = [
      createScanner(ScannerConfigSchema.parse({ type: 'simulated', id: 'sim', ...common }), { logger }),
      createScanner(ScannerConfigSchema.parse({ type: 'hid-pos', id: 'pos', ...common }), { logger, hid }),
      createScanner(
        ScannerConfigSchema.parse({ type: 'hid-keyboard', id: 'kbd', vendorId: 0x05f9, ...common }),
        {
          logger,
          hid,
        },
      ),
      createScanner(
        ScannerConfigSchema.parse({ type: 'serial', id: 'ser', path: '/dev/ttyLOG', ...common }),
        {
          logger,
          serialBinding: binding,
        },
      ),
    ];
    const texts: string[] = [];
    for (const scanner of scanners) {
      scanner.on('scan', (scan) => texts.push(scan.text));
      await scanner.open();
      await scanner.claim();
    }
    const feedAll = async (code: string, aimId: string) => {
      await (scanners[0] as SimulatedScanner).scan(code, { aimId });
      for (const report of frameHidPos(code, { aimId })) hid.device('/dev/hidraw-pos0')!.emitReport(report);
      for (const { report } of encodeWedge(`${aimId}${code}`, { layout: 'us', suffix: 'enter' })) {
        hid.device('/dev/hidraw-kbd0')!.emitReport(report);
      }
      binding.emitData('/dev/ttyLOG', `${aimId}${code}\r`);
      await quiet(20);
    };
    await feedAll(PC1_CODE, ']Q1'); // not enabled yet: dropped (debug log)
    for (const scanner of scanners) await scanner.enable();
    await feedAll(PC1_CODE, ']Q1'); // accepted
    await until(() => texts.length === 4, 2000, 'four scans');
    await feedAll(PC1_CODE, ']Q1'); // double reads
    await feedAll(PC1_CODE, ']C0'); // refused symbology
    await feedAll(`${PC1_CODE.slice(0, 100)}\t${PC1_CODE.slice(100)}`.slice(0, 200), ']Q1'); // control character
    for (const scanner of scanners) await scanner.close();

    expect(texts).toEqual([PC1_CODE, PC1_CODE, PC1_CODE, PC1_CODE]);
    expect(logs).toContain(`PC1:…${PC1_CODE.slice(-4)} (301 chars)`);
    expect(logs).toMatch(/double read ignored/);
    expect(logs).toMatch(/not allowed/);
    const body = PC1_CODE.slice(4);
    for (let offset = 0; offset + 8 <= body.length - 4; offset++) {
      const piece = body.slice(offset, offset + 8);
      expect(logs.includes(piece), `logs contain ${JSON.stringify(piece)} at ${offset}`).toBe(false);
    }
  });
});
