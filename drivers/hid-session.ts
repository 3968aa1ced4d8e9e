// One open HID device feeding a report decoder: reports in, decoder events out, the decoder's timeout
// driven by a timer, node-hid's 'error' (its only sign of an unplug) reported as a loss.
import type { ReportDecoder } from './decoded-scan.js';
import type { DeviceSession, SessionHooks } from './device-scanner.js';
import { ScannerError } from './errors.js';
import { type DeviceSelector, type HidBackend, type HidDeviceLike, pickHidDevice } from './hid-device.js';
import { hidOpenErrorMessage } from './hid-loader.js';

export function startHidSession(options: {
  device: HidDeviceLike;
  deviceKey: string;
  decoder: ReportDecoder;
  hooks: SessionHooks;
  now: () => number;
}): DeviceSession {
  const { device, decoder, hooks, now } = options;
  let timer: NodeJS.Timeout | undefined;
  let open = true;
  const arm = (): void => {
    clearTimeout(timer);
    const deadlineMs = decoder.nextDeadlineMs();
    if (deadlineMs === undefined || !open) return;
    timer = setTimeout(
      () => {
        hooks.events(decoder.tick(now()));
        arm();
      },
      Math.max(0, deadlineMs - now()),
    );
  };
  device.on('data', (report) => {
    if (!open) return;
    hooks.events(decoder.push(report, now()));
    arm();
  });
  device.on('error', (error) => {
    if (open) hooks.lost(error);
  });
  return {
    deviceKey: options.deviceKey,
    async close() {
      if (!open) return;
      open = false;
      clearTimeout(timer);
      decoder.reset();
      device.removeAllListeners('data'); // node-hid stops reading when the last 'data' listener goes
      device.removeAllListeners('error');
      device.on('error', () => {}); // a late error from a closing handle must not crash the process
      await device.close().catch(() => {});
    },
  };
}

/** Finds the configured device among those of `mode`, opens it and starts a session on it. */
export async function connectHid(options: {
  loadBackend: () => Promise<HidBackend>;
  mode: 'hid-pos' | 'hid-keyboard';
  selector: DeviceSelector;
  decoder: ReportDecoder;
  hooks: SessionHooks;
  now: () => number;
  afterOpen?: (device: HidDeviceLike) => Promise<void>;
}): Promise<DeviceSession> {
  const backend = await options.loadBackend();
  const info = pickHidDevice(await backend.devicesAsync(), options.mode, options.selector);
  if (info?.path === undefined) {
    throw new ScannerError(
      'E_NOHARDWARE',
      `no ${options.mode} device matching ${describeSelector(options.selector)}`,
    );
  }
  let device: HidDeviceLike;
  try {
    device = await backend.open(info.path);
  } catch (error) {
    throw new ScannerError('E_FAILURE', hidOpenErrorMessage(error, info.path), { cause: error });
  }
  const session = startHidSession({ ...options, device, deviceKey: info.path });
  await options.afterOpen?.(device);
  return session;
}

/** Paths of the present devices a HID scanner would open, for presence polling. */
export async function enumerateHid(
  loadBackend: () => Promise<HidBackend>,
  mode: 'hid-pos' | 'hid-keyboard',
  selector: DeviceSelector,
): Promise<string[]> {
  const devices = await (await loadBackend()).devicesAsync();
  return devices
    .filter((device) => pickHidDevice([device], mode, selector) !== undefined)
    .map((device) => device.path!);
}

export function describeSelector(selector: DeviceSelector): string {
  const parts: string[] = [];
  if (selector.vendorId !== undefined) parts.push(`vendorId 0x${hex4(selector.vendorId)}`);
  if (selector.productId !== undefined) parts.push(`productId 0x${hex4(selector.productId)}`);
  if (selector.serialNumber !== undefined) parts.push(`serial number ${selector.serialNumber}`);
  if (selector.path !== undefined) parts.push(`path ${selector.path}`);
  return parts.length === 0 ? 'any' : parts.join(', ');
}

function hex4(id: number): string {
  return id.toString(16).padStart(4, '0');
}
