// Makes the Scanner a lane's config asks for. Nothing here touches hardware: HID scanners load node-hid
// when first opened, serial scanners serialport's native binding; tests inject fakes for both.
import type { Logger } from 'pino';
import type { ScannerConfig } from './config.js';
import type { ReconnectOptions } from './device-scanner.js';
import type { DeviceSelector, HidBackend } from './hid-device.js';
import { HidKeyboardScanner } from './hid-keyboard.js';
import { loadHidBackend } from './hid-loader.js';
import { HidPosScanner } from './hid-pos.js';
import type { ScanFilterOptions } from './scan-filter.js';
import type { Scanner } from './scanner.js';
import { loadNativeSerialBinding, type SerialBinding, SerialScanner } from './serial.js';
import { SimulatedScanner } from './simulated.js';

export interface ScannerDeps {
  logger: Logger;
  /** node-hid or a stand-in (FakeHidBackend); default: node-hid, imported when a HID scanner opens. */
  hid?: HidBackend | (() => Promise<HidBackend>);
  /** serialport binding (MockBinding in tests); default: the native binding, loaded on first open. */
  serialBinding?: SerialBinding | (() => Promise<SerialBinding>);
  /** Whether a device node exists (serial ports missing from `list()`, such as ptys). */
  pathExists?: (path: string) => Promise<boolean>;
  now?: () => number;
  random?: () => number;
}

/** ± this fraction of each reopen delay. */
const RECONNECT_JITTER_RATIO = 0.2;

const SIMULATED_SUFFIX = { cr: '\r', lf: '\n', crlf: '\r\n', none: '' } as const;

export function createScanner(config: ScannerConfig, deps: ScannerDeps): Scanner {
  const base = {
    deviceId: config.id,
    logger: deps.logger,
    filter: filterOptions(config),
    reconnect: reconnectOptions(config),
    ...(deps.now === undefined ? {} : { now: deps.now }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  };
  switch (config.type) {
    case 'simulated':
      return new SimulatedScanner({ ...base, suffix: SIMULATED_SUFFIX[config.suffix] });
    case 'serial':
      return new SerialScanner({
        ...base,
        selector: selectorOf(config),
        baudRate: config.baudRate,
        framer: {
          suffix: config.suffix,
          interByteTimeoutMs: config.interByteTimeoutMs,
          maxScanBytes: config.maxScanBytes,
        },
        aimPrefix: config.aimPrefix,
        loadBinding: loaderOf(deps.serialBinding, loadNativeSerialBinding),
        ...(deps.pathExists === undefined ? {} : { pathExists: deps.pathExists }),
      });
    case 'hid-pos':
      return new HidPosScanner({
        ...base,
        selector: selectorOf(config),
        decoder: { maxScanBytes: config.maxScanBytes, interReportTimeoutMs: config.interReportTimeoutMs },
        vendorInit: config.vendorInit,
        loadBackend: loaderOf(deps.hid, () => loadHidBackend()),
      });
    case 'hid-keyboard':
      return new HidKeyboardScanner({
        ...base,
        selector: selectorOf(config),
        decoder: {
          layout: config.layout,
          suffix: config.suffix,
          interKeyTimeoutMs: config.interKeyTimeoutMs,
          maxAvgKeyIntervalMs: config.maxAvgKeyIntervalMs,
          maxScanChars: config.maxScanChars,
          aimPrefix: config.aimPrefix,
        },
        loadBackend: loaderOf(deps.hid, () => loadHidBackend()),
      });
  }
}

export function filterOptions(config: ScannerConfig): ScanFilterOptions {
  const options: ScanFilterOptions = {
    dedupeWindowMs: config.dedupeWindowMs,
    minLength: config.minLength,
    maxLength: config.maxLength,
    allowGroupSeparator: config.allowGroupSeparator,
  };
  if (config.allowedSymbologies !== undefined) options.allowedSymbologies = config.allowedSymbologies;
  return options;
}

function reconnectOptions(config: ScannerConfig): ReconnectOptions {
  return {
    initialDelayMs: config.reconnectInitialDelayMs,
    maxDelayMs: Math.max(config.reconnectInitialDelayMs, config.reconnectMaxDelayMs),
    jitterRatio: RECONNECT_JITTER_RATIO,
    presencePollMs: config.presencePollMs,
  };
}

export function selectorOf(config: DeviceSelector): DeviceSelector {
  const { vendorId, productId, serialNumber, path } = config;
  return { vendorId, productId, serialNumber, path };
}

function loaderOf<T extends object>(
  given: T | (() => Promise<T>) | undefined,
  fallback: () => Promise<T>,
): () => Promise<T> {
  if (given === undefined) return fallback;
  if (typeof given === 'function') return given as () => Promise<T>;
  return async () => given;
}
