// node-hid, loaded only when a HID scanner is opened or listed. Its native part needs hidraw/libudev
// (or libusb-1.0) at load time; when that fails, HID scanners report why and the others keep working.

import { ScannerError } from './errors.js';
import type { HidBackend, HidDeviceInfo, HidDeviceLike } from './hid-device.js';

/** The part of node-hid's module the drivers use. */
export interface NodeHidModule {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string): Promise<HidDeviceLike> };
}

export type NodeHidImporter = () => Promise<NodeHidModule>;

const importNodeHid: NodeHidImporter = async () => (await import('node-hid')) as unknown as NodeHidModule;

/** One load attempt per importer, success or failure: a missing library does not appear at run time. */
const loads = new WeakMap<NodeHidImporter, Promise<HidBackend>>();

export const HID_PERMISSION_HINT =
  'On Linux, give the gateway read access to /dev/hidraw* with a udev rule: install ' +
  'deploy/99-tillgate-scanners.rules in /etc/udev/rules.d/ (it has lines such as ' +
  'SUBSYSTEM=="hidraw", ATTRS{idVendor}=="0c2e", GROUP="tillgate", MODE="0660"; add your vendor id in ' +
  'lower-case hex), run the gateway in the tillgate group (deploy/tillgate.service does), then ' +
  '`udevadm control --reload-rules` and replug.';

/** Loads node-hid (cached); rejects with E_NOSERVICE and an actionable message when it cannot. */
export function loadHidBackend(importer: NodeHidImporter = importNodeHid): Promise<HidBackend> {
  let load = loads.get(importer);
  if (load === undefined) {
    // node-hid 3 imports without its native library and fails only at the first call: enumerate once here,
    // so that a missing libusb/libudev is reported as E_NOSERVICE with the install advice.
    load = importer()
      .then(async (module) => {
        await module.devicesAsync();
        return backendOf(module);
      })
      .catch((error: unknown) => {
        throw new ScannerError('E_NOSERVICE', hidUnavailableMessage(error), { cause: error });
      });
    loads.set(importer, load);
  }
  return load;
}

export function hidUnavailableMessage(error: unknown): string {
  const reason = causeChain(error);
  return (
    `node-hid could not be loaded (${reason}). HID scanners (hid-pos, hid-keyboard) are unavailable; ` +
    'serial and simulated scanners keep working. node-hid needs its native library: on Linux, libudev ' +
    'for hidraw or libusb-1.0 (libusb-1.0.so.0: `apt-get install libusb-1.0-0 libudev1`); reinstall node-hid ' +
    `if its prebuilt binary is missing for this platform. ${HID_PERMISSION_HINT}`
  );
}

/** An open failure with the remediation a technician needs (permission is the usual cause on Linux). */
export function hidOpenErrorMessage(error: unknown, path: string): string {
  const reason = error instanceof Error ? error.message : String(error);
  return `cannot open HID device ${path} (${reason}). ${HID_PERMISSION_HINT}`;
}

function backendOf(module: NodeHidModule): HidBackend {
  return {
    devicesAsync: () => module.devicesAsync(),
    open: (path) => module.HIDAsync.open(path),
  };
}

/** The messages of an error and its causes: a loader's own wrapper often hides the dlopen error. */
function causeChain(error: unknown): string {
  const messages: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 4; depth++) {
    messages.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages.join(': ');
}
