// The HID seam: the shapes of node-hid the drivers depend on (HIDAsync, devicesAsync), so that tests
// and the simulators can stand in for hardware, and how a configured scanner picks its device.
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  interface?: number | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
}

/** node-hid's HIDAsync as the drivers use it: reading starts when a 'data' listener is added. */
export interface HidDeviceLike {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
  write(values: number[] | Buffer): Promise<number>;
  sendFeatureReport(data: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
}

export interface HidBackend {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidDeviceLike>;
}

/** How a scanner's config names its device; absent fields match anything. */
export interface DeviceSelector {
  vendorId?: number | undefined;
  productId?: number | undefined;
  serialNumber?: string | undefined;
  path?: string | undefined;
}

export const HID_POS_USAGE_PAGE = 0x8c;
export const HID_POS_USAGE_SCANNER = 0x02;
const GENERIC_DESKTOP = 0x01;
const USAGE_KEYBOARD = 0x06;

export type HidMode = 'hid-pos' | 'hid-keyboard' | 'hid-other';

/** HID POS scanner collections are usage page 0x8C usage 2; boot keyboards page 1 usage 6. */
export function hidModeOf(device: HidDeviceInfo): HidMode {
  if (device.usagePage === HID_POS_USAGE_PAGE && device.usage === HID_POS_USAGE_SCANNER) return 'hid-pos';
  if (device.usagePage === GENERIC_DESKTOP && device.usage === USAGE_KEYBOARD) return 'hid-keyboard';
  return 'hid-other';
}

export function matchesSelector(
  selector: DeviceSelector,
  device: {
    vendorId?: number | undefined;
    productId?: number | undefined;
    serialNumber?: string | undefined;
    path?: string | undefined;
  },
): boolean {
  if (selector.vendorId !== undefined && device.vendorId !== selector.vendorId) return false;
  if (selector.productId !== undefined && device.productId !== selector.productId) return false;
  if (selector.serialNumber !== undefined && device.serialNumber !== selector.serialNumber) return false;
  if (selector.path !== undefined && device.path !== selector.path) return false;
  return true;
}

/** The device a HID scanner should open: the first of the right mode that the selector matches. */
export function pickHidDevice(
  devices: readonly HidDeviceInfo[],
  mode: 'hid-pos' | 'hid-keyboard',
  selector: DeviceSelector,
): HidDeviceInfo | undefined {
  return devices.find(
    (device) =>
      device.path !== undefined &&
      matchesSelector(selector, device) &&
      // libusb enumerations carry no usage page: then the selector alone decides.
      (hidModeOf(device) === mode || device.usagePage === undefined),
  );
}

/** Parses a vendor or product id from config or serialport's PortInfo ("0c2e", "0x0C2E", 3118). */
export function parseUsbId(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  const parsed = Number.parseInt(value.replace(/^0x/i, ''), 16);
  return Number.isNaN(parsed) ? undefined : parsed;
}
