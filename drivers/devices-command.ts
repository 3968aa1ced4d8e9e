// `tillgate devices`: what scanners are attached (HID POS, keyboard-wedge candidates, serial ports),
// in which mode, and which lane's scanner config each one matches. Each source fails on its own: no
// node-hid or no udevadm is reported as a reason, the other source is still listed.
import type { ScannerConfig } from './config.js';
import { errorMessage } from './device-scanner.js';
import { type HidBackend, hidModeOf, matchesSelector, parseUsbId } from './hid-device.js';
import { loadHidBackend } from './hid-loader.js';
import { loadNativeSerialBinding, matchesSerialDevice, type SerialBinding } from './serial.js';

type PortInfo = Awaited<ReturnType<SerialBinding['list']>>[number];

export type DeviceMode = 'hid-pos' | 'hid-keyboard' | 'hid-other' | 'serial';

export interface DeviceFound {
  kind: 'device';
  transport: 'hid' | 'serial';
  mode: DeviceMode;
  path: string;
  vendorId?: number;
  productId?: number;
  serialNumber?: string;
  manufacturer?: string;
  product?: string;
  usagePage?: number;
  usage?: number;
  interface?: number;
}

export interface SourceUnavailable {
  kind: 'unavailable';
  transport: 'hid' | 'serial';
  reason: string;
}

export type DeviceReport = DeviceFound | SourceUnavailable;

export interface ListDevicesDeps {
  hid?: () => Promise<HidBackend>;
  serialList?: () => Promise<PortInfo[]>;
  /** Also list HID devices that are neither HID POS scanners nor keyboards (mice, hubs...). */
  includeOtherHid?: boolean;
}

export async function listDevices(deps: ListDevicesDeps = {}): Promise<DeviceReport[]> {
  const [hid, serial] = await Promise.all([listHid(deps), listSerial(deps)]);
  return [...hid, ...serial];
}

async function listHid(deps: ListDevicesDeps): Promise<DeviceReport[]> {
  try {
    const backend = await (deps.hid ?? (() => loadHidBackend()))();
    const reports: DeviceReport[] = [];
    const seen = new Set<string>();
    for (const device of await backend.devicesAsync()) {
      const mode = hidModeOf(device);
      if (device.path === undefined || seen.has(device.path)) continue;
      if (mode === 'hid-other' && !deps.includeOtherHid) continue;
      seen.add(device.path);
      reports.push(
        withDefined({
          kind: 'device',
          transport: 'hid',
          mode,
          path: device.path,
          vendorId: device.vendorId,
          productId: device.productId,
          serialNumber: device.serialNumber,
          manufacturer: device.manufacturer,
          product: device.product,
          usagePage: device.usagePage,
          usage: device.usage,
          interface: device.interface,
        }),
      );
    }
    return reports;
  } catch (error) {
    return [{ kind: 'unavailable', transport: 'hid', reason: errorMessage(error) }];
  }
}

async function listSerial(deps: ListDevicesDeps): Promise<DeviceReport[]> {
  try {
    const list = deps.serialList ?? (async () => (await loadNativeSerialBinding()).list());
    return (await list()).map((port) =>
      withDefined({
        kind: 'device',
        transport: 'serial',
        mode: 'serial',
        path: port.path,
        vendorId: parseUsbId(port.vendorId),
        productId: parseUsbId(port.productId),
        serialNumber: port.serialNumber,
        manufacturer: port.manufacturer,
      }),
    );
  } catch (error) {
    const reason = errorMessage(error);
    const hint = /udevadm/.test(reason) ? ' (install the udev package: SerialPort.list() needs udevadm)' : '';
    return [{ kind: 'unavailable', transport: 'serial', reason: reason + hint }];
  }
}

export interface LaneScanner {
  laneId: string;
  scannerId: string;
  type: ScannerConfig['type'];
}

export interface DeviceAssignment {
  device: DeviceFound;
  /** The lane scanners whose config matches this device; more than one is a config to fix. */
  lanes: LaneScanner[];
}

export interface DevicesView {
  devices: DeviceAssignment[];
  /** Configured hardware scanners that no listed device matches. */
  missing: LaneScanner[];
  /** Configured simulated scanners (no hardware to find). */
  simulated: LaneScanner[];
  unavailable: SourceUnavailable[];
}

export function matchDevicesToLanes(
  reports: readonly DeviceReport[],
  lanes: ReadonlyArray<{ id: string; scanners: readonly ScannerConfig[] }>,
): DevicesView {
  const found = reports.filter((report): report is DeviceFound => report.kind === 'device');
  const view: DevicesView = {
    devices: found.map((device) => ({ device, lanes: [] })),
    missing: [],
    simulated: [],
    unavailable: reports.filter((report): report is SourceUnavailable => report.kind === 'unavailable'),
  };
  for (const lane of lanes) {
    for (const scanner of lane.scanners) {
      const entry: LaneScanner = { laneId: lane.id, scannerId: scanner.id, type: scanner.type };
      if (scanner.type === 'simulated') {
        view.simulated.push(entry);
        continue;
      }
      const matches = view.devices.filter(({ device }) => configMatches(scanner, device));
      for (const match of matches) match.lanes.push(entry);
      if (matches.length === 0) view.missing.push(entry);
    }
  }
  return view;
}

function configMatches(scanner: Exclude<ScannerConfig, { type: 'simulated' }>, device: DeviceFound): boolean {
  if (scanner.type === 'serial') return device.mode === 'serial' && matchesSerialDevice(scanner, device);
  if (device.transport !== 'hid') return false;
  const modeFits = device.mode === scanner.type || device.usagePage === undefined;
  return modeFits && matchesSelector(scanner, device);
}

/** The view as lines a technician reads. */
export function formatDevicesView(view: DevicesView): string {
  const lines: string[] = [];
  for (const { device, lanes } of view.devices) {
    const ids =
      device.vendorId === undefined ? '' : ` ${hex4(device.vendorId)}:${hex4(device.productId ?? 0)}`;
    const name = [device.manufacturer, device.product].filter(Boolean).join(' ');
    const where =
      lanes.length === 0 ? 'no lane' : lanes.map((l) => `lane ${l.laneId} (${l.scannerId})`).join(', ');
    const warn = lanes.length > 1 ? '  ! matches several scanner configs' : '';
    lines.push(`${device.mode.padEnd(12)} ${device.path}${ids}${name ? ` ${name}` : ''} → ${where}${warn}`);
  }
  for (const entry of view.missing)
    lines.push(`missing      lane ${entry.laneId} (${entry.scannerId}, ${entry.type}): no matching device`);
  for (const entry of view.simulated) lines.push(`simulated    lane ${entry.laneId} (${entry.scannerId})`);
  for (const source of view.unavailable) lines.push(`unavailable  ${source.transport}: ${source.reason}`);
  return lines.join('\n');
}

function hex4(id: number): string {
  return id.toString(16).padStart(4, '0');
}

function withDefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
