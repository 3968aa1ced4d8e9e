// Runs the shared Scanner contract against the four implementations: simulated, HID POS and
// keyboard-wedge over fake node-hid devices fed by the simulators, serial over serialport's MockBinding.
// (Serial over a real socat pty pair runs the same suite in serial-socat.test.ts.)
import pino from 'pino';
import { SerialPortMock } from 'serialport';
import { type ScannerConfigInput, ScannerConfigSchema } from './config.js';
import { createScanner, type ScannerDeps } from './factory.js';
import type { Scanner } from './scanner.js';
import { runScannerContract } from './scanner-contract.case.js';
import type { SimulatedScanner } from './simulated.js';
import {
  encodeWedge,
  FakeHidBackend,
  frameHidPos,
  hidPosDeviceInfo,
  keyboardDeviceInfo,
  UnpluggableMockBinding,
} from './simulators.js';

const logger = pino({ level: 'silent' });
const fast = { reconnectInitialDelayMs: 5, reconnectMaxDelayMs: 20, presencePollMs: 0 } as const;

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

runScannerContract({
  name: 'simulated',
  create: async ({ now, dedupeWindowMs }) =>
    make({ type: 'simulated', id: 'sim-1', dedupeWindowMs }, { logger, now }),
  feed: async (scanner, text) => {
    await (scanner as SimulatedScanner).scan(text, { aimId: ']Q1' });
  },
  unplug: (scanner) => (scanner as SimulatedScanner).unplug(),
  replug: (scanner) => (scanner as SimulatedScanner).replug(),
});

{
  const info = hidPosDeviceInfo();
  let backend = new FakeHidBackend([info]);
  const emit = async (reports: Uint8Array[]): Promise<void> => {
    for (const report of reports) backend.device(info.path!)?.emitReport(report);
    await tick();
  };
  runScannerContract({
    name: 'hid-pos (fake node-hid device)',
    create: async ({ now, dedupeWindowMs }) => {
      backend = new FakeHidBackend([info]);
      return make(
        { type: 'hid-pos', id: 'pos-1', dedupeWindowMs, ...fast, vendorId: 0x0c2e },
        { logger, now, hid: backend },
      );
    },
    feed: (_scanner, text) => emit(frameHidPos(text, { aimId: ']Q1', codeId: 's' })),
    feedPartial: (_scanner, text) => emit(frameHidPos(text, { aimId: ']Q1' }).slice(0, 2)),
    unplug: async () => backend.unplug(info.path!),
    replug: async () => backend.plug(info),
  });
}

{
  const info = keyboardDeviceInfo();
  let backend = new FakeHidBackend([info]);
  const emit = async (text: string, keys?: number): Promise<void> => {
    const reports = encodeWedge(`]Q1${text}`, { layout: 'us', suffix: 'enter' });
    for (const { report } of reports.slice(0, keys)) backend.device(info.path!)?.emitReport(report);
    await tick();
  };
  runScannerContract({
    name: 'hid-keyboard (fake node-hid device)',
    create: async ({ now, dedupeWindowMs }) => {
      backend = new FakeHidBackend([info]);
      return make(
        { type: 'hid-keyboard', id: 'kbd-1', dedupeWindowMs, ...fast, vendorId: '05f9', layout: 'us' },
        { logger, now, hid: backend },
      );
    },
    feed: (_scanner, text) => emit(text),
    feedPartial: (_scanner, text) => emit(text, 120),
    unplug: async () => backend.unplug(info.path!),
    replug: async () => backend.plug(info),
  });
}

{
  const path = '/dev/ttySCAN0';
  let binding = new UnpluggableMockBinding();
  const send = async (data: string): Promise<void> => {
    binding.emitData(path, data);
    await tick();
  };
  runScannerContract({
    name: 'serial (serialport MockBinding)',
    create: async ({ now, dedupeWindowMs }) => {
      SerialPortMock.binding.reset();
      SerialPortMock.binding.createPort(path, { vendorId: '0c2e', productId: '0b61', maxReadSize: 7 });
      binding = new UnpluggableMockBinding();
      return make(
        { type: 'serial', id: 'ser-1', dedupeWindowMs, ...fast, path, suffix: 'cr' },
        { logger, now, serialBinding: binding },
      );
    },
    feed: (_scanner, text) => send(`]Q1${text}\r`),
    feedPartial: (_scanner, text) => send(`]Q1${text.slice(0, 150)}`),
    unplug: async () => binding.unplug(path),
    replug: async () => binding.replug(path),
    cleanup: async () => SerialPortMock.binding.reset(),
  });
}

function make(config: ScannerConfigInput, deps: ScannerDeps): Scanner {
  return createScanner(ScannerConfigSchema.parse(config), deps);
}
