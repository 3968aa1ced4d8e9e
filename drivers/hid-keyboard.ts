// The keyboard-wedge scanner over node-hid: boot keyboard reports from the scanner's own hidraw node,
// decoded with the configured layout by WedgeDecoder. Linux only in practice: Windows and macOS keep
// keyboards from node-hid, and on Linux the kernel still types the keys into the focused window.
import {
  DeviceScanner,
  type DeviceScannerOptions,
  type DeviceSession,
  type SessionHooks,
} from './device-scanner.js';
import type { DeviceSelector, HidBackend } from './hid-device.js';
import { connectHid, enumerateHid } from './hid-session.js';
import { WedgeDecoder, type WedgeDecoderOptions } from './wedge-decoder.js';

export interface HidKeyboardScannerOptions extends Omit<DeviceScannerOptions, 'transport'> {
  /** Must name the scanner (vendor id, serial number or path): a lane never reads an arbitrary keyboard. */
  selector: DeviceSelector;
  decoder: WedgeDecoderOptions;
  loadBackend: () => Promise<HidBackend>;
}

export class HidKeyboardScanner extends DeviceScanner {
  readonly #options: HidKeyboardScannerOptions;

  constructor(options: HidKeyboardScannerOptions) {
    super({ ...options, transport: 'hid-keyboard' });
    this.#options = options;
  }

  protected override connect(hooks: SessionHooks): Promise<DeviceSession> {
    const { loadBackend, selector } = this.#options;
    return connectHid({
      loadBackend,
      mode: 'hid-keyboard',
      selector,
      decoder: new WedgeDecoder(this.#options.decoder),
      hooks,
      now: this.now,
    });
  }

  protected override enumerate(): Promise<readonly string[]> {
    return enumerateHid(this.#options.loadBackend, 'hid-keyboard', this.#options.selector);
  }
}
