// The serial scanner (RS-232 or USB-CDC) over serialport: a SerialPortStream on an injectable binding
// (the native one by default, MockBinding in tests), framed by serial-framer. A disconnect 'close'
// from the stream, or the port vanishing from the device list (for a port named by its path alone, its
// device node), is an unplug.
import { access } from 'node:fs/promises';
import { SerialPortStream } from '@serialport/stream';
import type { AimPrefixMode } from './aim.js';
import {
  DeviceScanner,
  type DeviceScannerOptions,
  type DeviceSession,
  errorMessage,
  type SessionHooks,
} from './device-scanner.js';
import { ScannerError } from './errors.js';
import { type DeviceSelector, parseUsbId } from './hid-device.js';
import { describeSelector } from './hid-session.js';
import { createSerialFramer, type SerialFramerOptions, serialFrameEvent } from './serial-framer.js';
import { withEventLoopRead } from './serial-read.js';

export interface SerialScannerOptions extends Omit<DeviceScannerOptions, 'transport'> {
  selector: DeviceSelector;
  baudRate: number;
  framer: SerialFramerOptions;
  aimPrefix: AimPrefixMode;
  loadBinding: () => Promise<SerialBinding>;
  /** Whether a device node exists; ptys (socat) and some adapters are missing from `list()`. */
  pathExists?: (path: string) => Promise<boolean>;
}

/** serialport's SerialBinding (its own package's types do not resolve under NodeNext). */
export type SerialBinding = ConstructorParameters<typeof SerialPortStream>[0]['binding'];
type PortInfo = Awaited<ReturnType<SerialBinding['list']>>[number];

const SERIAL_PERMISSION_HINT = 'On Linux, add the gateway user to the dialout group.';

/** serialport's native binding, loaded when a serial scanner is first opened, reading on the event loop. */
export async function loadNativeSerialBinding(): Promise<SerialBinding> {
  try {
    const { SerialPort } = await import('serialport');
    return withEventLoopRead(SerialPort.binding);
  } catch (error) {
    throw new ScannerError(
      'E_NOSERVICE',
      `serialport's native binding could not be loaded (${errorMessage(error)}); serial scanners are unavailable`,
      { cause: error },
    );
  }
}

async function nodeExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export class SerialScanner extends DeviceScanner {
  readonly #options: SerialScannerOptions;
  readonly #pathExists: (path: string) => Promise<boolean>;

  constructor(options: SerialScannerOptions) {
    super({ ...options, transport: 'serial' });
    this.#options = options;
    this.#pathExists = options.pathExists ?? nodeExists;
  }

  protected override async connect(hooks: SessionHooks): Promise<DeviceSession> {
    const binding = await this.#options.loadBinding();
    const path = await this.#resolvePath(binding);
    const port = new SerialPortStream({
      binding,
      path,
      baudRate: this.#options.baudRate,
      autoOpen: false,
      lock: true,
    });
    try {
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      const hint = /EACCES|permission/i.test(errorMessage(error)) ? ` ${SERIAL_PERMISSION_HINT}` : '';
      throw new ScannerError('E_FAILURE', `cannot open ${path} (${errorMessage(error)}).${hint}`, {
        cause: error,
      });
    }
    return this.#startSession(port, path, hooks);
  }

  protected override async enumerate(): Promise<readonly string[]> {
    const { selector } = this.#options;
    if (await this.#nodeOfPathAlone()) return [selector.path!];
    const binding = await this.#options.loadBinding();
    const listed = await binding.list().catch((): PortInfo[] => []);
    const paths = listed.filter((port) => matchesPort(selector, port)).map((port) => port.path);
    if (
      selector.path !== undefined &&
      !paths.includes(selector.path) &&
      (await this.#pathExists(selector.path))
    ) {
      paths.push(selector.path);
    }
    return paths;
  }

  /**
   * Whether the port is named by its path alone and its device node is there: then it is present, and the port
   * list is not asked. On Linux that list spawns udevadm, which holds the event loop 1–3 ms at every presence poll
   * (a scan arriving meanwhile waits); it is asked when the node is missing (MockBinding's ports have none).
   */
  async #nodeOfPathAlone(): Promise<boolean> {
    const { path, vendorId, productId, serialNumber } = this.#options.selector;
    if (path === undefined || vendorId !== undefined || productId !== undefined || serialNumber !== undefined)
      return false;
    return this.#pathExists(path);
  }

  async #resolvePath(binding: SerialBinding): Promise<string> {
    const { selector } = this.#options;
    if (await this.#nodeOfPathAlone()) return selector.path!;
    let ports: PortInfo[] = [];
    let listError: unknown;
    try {
      ports = await binding.list();
    } catch (error) {
      listError = error; // no udevadm in a container, for instance: the configured path still works
    }
    const match = ports.find((port) => matchesPort(selector, port));
    if (match !== undefined) return match.path;
    if (selector.path !== undefined && (await this.#pathExists(selector.path))) return selector.path;
    const because = listError === undefined ? '' : ` (listing ports failed: ${errorMessage(listError)})`;
    throw new ScannerError('E_NOHARDWARE', `no serial port matching ${describeSelector(selector)}${because}`);
  }

  #startSession(port: SerialPortStream, path: string, hooks: SessionHooks): DeviceSession {
    const { framer: framerOptions, aimPrefix } = this.#options;
    const framer = createSerialFramer(framerOptions);
    let open = true;
    framer.on('data', (frame: Buffer) => {
      const event = serialFrameEvent(frame, { suffix: framerOptions.suffix, aimPrefix });
      if (open && event !== undefined) hooks.events([event]);
    });
    framer.on('overflow', () => {
      const message = `frame over ${framerOptions.maxScanBytes} bytes dropped`;
      if (open) hooks.events([{ kind: 'rejected', reason: 'too_long', message }]);
    });
    port.on('data', (chunk: Buffer) => {
      if (open) framer.write(chunk);
    });
    port.on('close', (error: Error | null) => {
      if (open) hooks.lost(error ?? new Error('port closed'));
    });
    port.on('error', (error: Error) => {
      if (open) hooks.lost(error);
    });
    return {
      deviceKey: path,
      async close() {
        if (!open) return;
        open = false;
        framer.destroy(); // an unfinished frame is dropped, never emitted
        port.removeAllListeners('data');
        port.on('error', () => {});
        if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
      },
    };
  }
}

/** PortInfo fields that are missing (containers without udev) do not rule a port out; different ones do. */
function matchesPort(selector: DeviceSelector, port: PortInfo): boolean {
  return matchesSerialDevice(selector, {
    path: port.path,
    vendorId: parseUsbId(port.vendorId),
    productId: parseUsbId(port.productId),
    serialNumber: port.serialNumber,
  });
}

export function matchesSerialDevice(
  selector: DeviceSelector,
  port: {
    path: string;
    vendorId?: number | undefined;
    productId?: number | undefined;
    serialNumber?: string | undefined;
  },
): boolean {
  if (selector.path !== undefined && port.path !== selector.path) return false;
  const ids: Array<[wanted: string | number | undefined, actual: string | number | undefined]> = [
    [selector.vendorId, port.vendorId],
    [selector.productId, port.productId],
    [selector.serialNumber, port.serialNumber],
  ];
  const wanted = ids.filter(([want]) => want !== undefined);
  if (wanted.some(([want, actual]) => actual !== undefined && actual !== want)) return false;
  // Found by ids alone, at least one must be confirmed: a port without metadata is not assumed to be the scanner.
  return selector.path !== undefined || wanted.some(([want, actual]) => actual === want);
}
