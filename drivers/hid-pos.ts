// The HID POS scanner (usage page 0x8C) over node-hid: binary-safe 64-byte reports carrying the AIM
// identifier, reassembled by HidPosDecoder. node-hid is loaded when the scanner is first opened.
import {
  DeviceScanner,
  type DeviceScannerOptions,
  type DeviceSession,
  type SessionHooks,
} from './device-scanner.js';
import type { DeviceSelector, HidBackend, HidDeviceLike } from './hid-device.js';
import { connectHid, enumerateHid } from './hid-session.js';
import { HidPosDecoder, type HidPosDecoderOptions } from './hidpos-decoder.js';

/** Honeywell scanners need feature report 0xFE = [0x01] ("output redirection") to report over HID POS. */
const HONEYWELL_HID_POS_MODE = [0xfe, 0x01];

export type HidPosVendorInit = 'none' | 'honeywell';

export interface HidPosScannerOptions extends Omit<DeviceScannerOptions, 'transport'> {
  selector: DeviceSelector;
  decoder: HidPosDecoderOptions;
  vendorInit: HidPosVendorInit;
  loadBackend: () => Promise<HidBackend>;
}

export class HidPosScanner extends DeviceScanner {
  readonly #options: HidPosScannerOptions;

  constructor(options: HidPosScannerOptions) {
    super({ ...options, transport: 'hid-pos' });
    this.#options = options;
  }

  protected override connect(hooks: SessionHooks): Promise<DeviceSession> {
    const { loadBackend, selector } = this.#options;
    return connectHid({
      loadBackend,
      mode: 'hid-pos',
      selector,
      decoder: new HidPosDecoder(this.#options.decoder),
      hooks,
      now: this.now,
      afterOpen: (device) => this.#vendorInit(device),
    });
  }

  protected override enumerate(): Promise<readonly string[]> {
    return enumerateHid(this.#options.loadBackend, 'hid-pos', this.#options.selector);
  }

  async #vendorInit(device: HidDeviceLike): Promise<void> {
    if (this.#options.vendorInit !== 'honeywell') return;
    try {
      await device.sendFeatureReport(HONEYWELL_HID_POS_MODE);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Honeywell HID POS init (feature report 0xFE) failed: ${reason}`);
    }
  }
}
