// The scanner config schema: defaults, bounds, strictness.
import { describe, expect, it } from 'vitest';
import { ScannerConfigSchema } from './config.js';

describe('ScannerConfigSchema', () => {
  it('fills every bound with its default', () => {
    expect(ScannerConfigSchema.parse({ type: 'hid-keyboard', id: 'kbd-1', vendorId: '0x05F9' })).toEqual({
      type: 'hid-keyboard',
      id: 'kbd-1',
      vendorId: 0x05f9,
      layout: 'us',
      suffix: 'enter',
      interKeyTimeoutMs: 100,
      maxAvgKeyIntervalMs: 30,
      maxScanChars: 2048,
      aimPrefix: 'auto',
      dedupeWindowMs: 1500,
      minLength: 4,
      maxLength: 2048,
      allowGroupSeparator: true,
      reconnectInitialDelayMs: 250,
      reconnectMaxDelayMs: 10_000,
      presencePollMs: 3000,
    });
    expect(ScannerConfigSchema.parse({ type: 'serial', id: 's', path: '/dev/ttyACM0' })).toMatchObject({
      baudRate: 9600,
      suffix: 'cr',
      interByteTimeoutMs: 50,
      maxScanBytes: 4096,
    });
    expect(ScannerConfigSchema.parse({ type: 'hid-pos', id: 'p' })).toMatchObject({
      interReportTimeoutMs: 100,
      maxScanBytes: 4096,
      vendorInit: 'none',
    });
  });

  it('rejects unknown keys, unknown types, and values out of bounds', () => {
    const bad = [
      { type: 'hid-pos', id: 'p', interReportTimeout: 100 },
      { type: 'usb', id: 'p' },
      { type: 'serial', id: 's', path: '/dev/x', maxScanBytes: 10_000_000 },
      { type: 'hid-pos', id: 'p', vendorId: 'xyz' },
      { type: 'hid-pos', id: 'p', vendorId: 0x10000 },
      { type: 'hid-keyboard', id: 'k', vendorId: 1, layout: 'de' },
      { type: 'simulated', id: 'has spaces' },
      { type: 'serial', id: 's' },
    ];
    for (const input of bad)
      expect(ScannerConfigSchema.safeParse(input).success, JSON.stringify(input)).toBe(false);
  });

  it('accepts a serial scanner found by ids alone', () => {
    expect(ScannerConfigSchema.parse({ type: 'serial', id: 's', serialNumber: 'S123' })).toMatchObject({
      serialNumber: 'S123',
    });
  });
});
