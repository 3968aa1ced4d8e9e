// Simulated hardware that emits the same bytes as the real thing: a keyboard-wedge encoder (text →
// boot keyboard press/release reports for a layout, at a chosen key rate), a HID POS framer (payload →
// 64-byte report-ID-2 frames), a fake node-hid device and backend with unplug/replug, and a serialport
// binding over MockBinding whose ports can be unplugged (MockBinding alone cannot).
import { EventEmitter } from 'node:events';
import { SerialPortMock } from 'serialport';
import type { HidBackend, HidDeviceInfo, HidDeviceLike } from './hid-device.js';
import { HID_POS_MAX_DATA_BYTES, HID_POS_REPORT_BYTES, HID_POS_REPORT_ID } from './hidpos-decoder.js';
import { type KeyboardLayoutName, keyboardLayout, USAGE } from './keyboard-layouts.js';
import type { SerialBinding } from './serial.js';
import type { WedgeSuffix } from './wedge-decoder.js';

export interface TimedReport {
  report: Uint8Array;
  atMs: number;
}

export interface WedgeEncodeOptions {
  layout: KeyboardLayoutName;
  suffix: WedgeSuffix;
  /** Time from one key press to the next; a scanner at an 8 ms USB poll interval types at 8–16 ms. */
  interKeyMs?: number;
  startMs?: number;
}

const LEFT_SHIFT = 0x02;
const LEFT_CTRL = 0x01;

function keyReport(modifiers: number, usage: number): Uint8Array {
  return Uint8Array.of(modifiers, 0, usage, 0, 0, 0, 0, 0);
}

/**
 * Encodes `text` as a wedge scanner set to `layout` types it: per character a press report (Shift in
 * the modifier byte when needed) and a release report half a key interval later, then the suffix key.
 * GS (0x1D) is sent as Ctrl+]. Throws for a character the layout cannot type (a test's mistake).
 */
export function encodeWedge(text: string, options: WedgeEncodeOptions): TimedReport[] {
  const layout = keyboardLayout(options.layout);
  const interKeyMs = options.interKeyMs ?? 8;
  const reports: TimedReport[] = [];
  let atMs = options.startMs ?? 0;
  const type = (modifiers: number, usage: number): void => {
    reports.push({ report: keyReport(modifiers, usage), atMs });
    reports.push({ report: keyReport(0, 0), atMs: atMs + interKeyMs / 2 });
    atMs += interKeyMs;
  };
  for (const char of text) {
    const key = layout.keyOf(char === '\u001d' ? ']' : char);
    if (key === undefined)
      throw new RangeError(`layout ${options.layout} cannot type U+${char.codePointAt(0)!.toString(16)}`);
    const modifiers = (key.shift ? LEFT_SHIFT : 0) | (char === '\u001d' ? LEFT_CTRL : 0);
    type(modifiers, key.usage);
  }
  if (options.suffix === 'enter') type(0, USAGE.enter);
  if (options.suffix === 'tab') type(0, USAGE.tab);
  return reports;
}

export interface HidPosFrameOptions {
  /** AIM identifier in bytes 2–4 of every report; undefined leaves them zero. */
  aimId?: string | undefined;
  /** Vendor Code ID in byte 61, e.g. "s" for QR on Honeywell. */
  codeId?: string;
  /** Offsets at which a report must end (besides every 56 bytes), to split a payload anywhere. */
  splitAt?: readonly number[];
}

/** Frames a payload into 64-byte HID POS input reports as Honeywell / Access-IS scanners send them. */
export function frameHidPos(payload: Uint8Array | string, options: HidPosFrameOptions = {}): Uint8Array[] {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const aimId = 'aimId' in options ? options.aimId : ']Q1';
  const cuts = [...new Set([0, ...(options.splitAt ?? []), bytes.length])]
    .filter((cut) => cut >= 0 && cut <= bytes.length)
    .sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    for (let start = cuts[i]!; start < cuts[i + 1]!; start += HID_POS_MAX_DATA_BYTES) {
      pieces.push(bytes.subarray(start, Math.min(start + HID_POS_MAX_DATA_BYTES, cuts[i + 1]!)));
    }
  }
  return pieces.map((piece, index) => {
    const report = new Uint8Array(HID_POS_REPORT_BYTES);
    report[0] = HID_POS_REPORT_ID;
    report[1] = piece.length;
    if (aimId !== undefined) report.set(Buffer.from(aimId, 'latin1').subarray(0, 3), 2);
    report.set(piece, 5);
    if (options.codeId !== undefined) report[61] = options.codeId.charCodeAt(0);
    report[63] = index < pieces.length - 1 ? 0x01 : 0x00;
    return report;
  });
}

/** A HID device with node-hid's HIDAsync shape. Reports reach listeners only while a 'data' listener exists. */
export class FakeHidDevice extends EventEmitter implements HidDeviceLike {
  readonly writes: Buffer[] = [];
  readonly featureReports: Buffer[] = [];
  #closed = false;
  #unplugged = false;

  constructor(readonly info: HidDeviceInfo) {
    super();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one input report, as the device does; false when nobody could read it. */
  emitReport(report: Uint8Array): boolean {
    if (this.#closed || this.#unplugged || this.listenerCount('data') === 0) return false;
    this.emit('data', Buffer.from(report));
    return true;
  }

  /** The cable is pulled: node-hid's only sign of it is an 'error' on the next read. */
  unplug(): void {
    if (this.#unplugged) return;
    this.#unplugged = true;
    if (!this.#closed && this.listenerCount('error') > 0)
      this.emit('error', new Error('could not read from HID device'));
  }

  async write(values: number[] | Buffer): Promise<number> {
    this.#assertUsable();
    this.writes.push(Buffer.from(values));
    return values.length + 1;
  }

  async sendFeatureReport(data: number[] | Buffer): Promise<number> {
    this.#assertUsable();
    this.featureReports.push(Buffer.from(data));
    return data.length + 1;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertUsable(): void {
    if (this.#closed || this.#unplugged) throw new Error('could not write to HID device');
  }
}

/** node-hid's enumeration and open over a scripted set of fake devices. */
export class FakeHidBackend implements HidBackend {
  #present = new Map<string, HidDeviceInfo>();
  #open = new Map<string, FakeHidDevice>();
  /** Set to make every open fail, as a missing udev rule does. */
  openError: Error | undefined;
  enumerations = 0;

  constructor(devices: readonly HidDeviceInfo[] = []) {
    for (const device of devices) this.plug(device);
  }

  async devicesAsync(): Promise<HidDeviceInfo[]> {
    this.enumerations++;
    return [...this.#present.values()].map((device) => ({ ...device }));
  }

  async open(path: string): Promise<FakeHidDevice> {
    const info = this.#present.get(path);
    if (this.openError !== undefined) throw this.openError;
    if (info === undefined) throw new Error(`cannot open device with path ${path}`);
    const device = new FakeHidDevice(info);
    this.#open.set(path, device);
    return device;
  }

  /** The handle most recently opened on `path`, if still open. */
  device(path: string): FakeHidDevice | undefined {
    const device = this.#open.get(path);
    return device?.closed ? undefined : device;
  }

  plug(info: HidDeviceInfo): void {
    if (info.path === undefined) throw new TypeError('a fake HID device needs a path');
    this.#present.set(info.path, info);
  }

  /** Pulls the device: it leaves the enumeration and an open handle gets its read error. */
  unplug(path: string, options: { silent?: boolean } = {}): void {
    this.#present.delete(path);
    const device = this.#open.get(path);
    if (device !== undefined && !options.silent) device.unplug();
  }

  loader(): () => Promise<HidBackend> {
    return async () => this;
  }
}

export function hidPosDeviceInfo(overrides: Partial<HidDeviceInfo> = {}): HidDeviceInfo {
  return {
    vendorId: 0x0c2e,
    productId: 0x0b87,
    path: '/dev/hidraw-pos0',
    serialNumber: 'POS0001',
    manufacturer: 'Honeywell',
    product: 'Simulated HID POS scanner',
    interface: 0,
    usagePage: 0x8c,
    usage: 0x02,
    ...overrides,
  };
}

export function keyboardDeviceInfo(overrides: Partial<HidDeviceInfo> = {}): HidDeviceInfo {
  return {
    vendorId: 0x05f9,
    productId: 0x2206,
    path: '/dev/hidraw-kbd0',
    serialNumber: 'KBD0001',
    manufacturer: 'Datalogic',
    product: 'Simulated keyboard-wedge scanner',
    interface: 0,
    usagePage: 0x01,
    usage: 0x06,
    ...overrides,
  };
}

const MockBinding = SerialPortMock.binding;
type MockPortBinding = Awaited<ReturnType<typeof MockBinding.open>>;
type PortBinding = Awaited<ReturnType<SerialBinding['open']>>;
type OpenOptions = Parameters<SerialBinding['open']>[0];

/** A MockBinding port whose reads fail with a non-cancel error once unplugged: a disconnect to SerialPortStream. */
class UnpluggablePort implements PortBinding {
  readonly #inner: MockPortBinding;
  readonly #unplugged: Promise<never>;
  #reject: (error: Error) => void = () => {};

  constructor(inner: MockPortBinding) {
    this.#inner = inner;
    this.#unplugged = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.#unplugged.catch(() => {});
  }

  get openOptions(): PortBinding['openOptions'] {
    return this.#inner.openOptions;
  }

  get isOpen(): boolean {
    return this.#inner.isOpen;
  }

  set isOpen(value: boolean) {
    this.#inner.isOpen = value;
  }

  emitData(data: Buffer | string): void {
    this.#inner.emitData(data);
  }

  unplug(): void {
    this.#reject(new Error('device reports readiness to read but returned no data (device disconnected?)'));
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    return Promise.race([this.#inner.read(buffer, offset, length), this.#unplugged]);
  }

  async close(): Promise<void> {
    if (this.#inner.isOpen) await this.#inner.close();
  }

  write(buffer: Buffer): Promise<void> {
    return Promise.race([this.#inner.write(buffer), this.#unplugged]);
  }

  update(options: { baudRate: number }): Promise<void> {
    return this.#inner.update(options);
  }

  set(options: Parameters<PortBinding['set']>[0]): Promise<void> {
    return this.#inner.set(options);
  }

  get(): ReturnType<PortBinding['get']> {
    return this.#inner.get();
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return this.#inner.getBaudRate();
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  drain(): Promise<void> {
    return this.#inner.drain();
  }
}

/**
 * serialport's MockBinding with a cable: `unplug(path)` makes the open port's read fail (so the
 * stream emits 'close' with `disconnected`) and hides the port from `list()` and `open()`; `replug`
 * brings it back. Create ports with `MockBinding.createPort` and call `MockBinding.reset()` after tests.
 */
export class UnpluggableMockBinding implements SerialBinding {
  readonly #unplugged = new Set<string>();
  readonly #open = new Map<string, UnpluggablePort>();

  async list(): ReturnType<SerialBinding['list']> {
    return (await MockBinding.list()).filter((port) => !this.#unplugged.has(port.path));
  }

  async open(options: OpenOptions): Promise<UnpluggablePort> {
    if (this.#unplugged.has(options.path)) {
      throw new Error(`Error: No such file or directory, cannot open ${options.path}`);
    }
    const port = new UnpluggablePort(await MockBinding.open(options));
    this.#open.set(options.path, port);
    return port;
  }

  /** Bytes arriving from the device on `path`; false when the port is not open. */
  emitData(path: string, data: Buffer | string): boolean {
    const port = this.#open.get(path);
    if (port === undefined || !port.isOpen) return false;
    port.emitData(data);
    return true;
  }

  isOpen(path: string): boolean {
    return this.#open.get(path)?.isOpen ?? false;
  }

  unplug(path: string): void {
    this.#unplugged.add(path);
    this.#open.get(path)?.unplug();
  }

  replug(path: string): void {
    this.#unplugged.delete(path);
  }
}
