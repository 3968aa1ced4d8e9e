// A simulated scanner: a real Scanner implementation with controls a test or the demo drives
// (scan, unplug, replug). Events are delivered asynchronously, as hardware delivers them.
import { EventEmitter } from 'node:events';
import type { Scan, Scanner, ScannerEvents, ScannerState, ScannerStatusKind, Symbology } from './scanner.js';

export interface SimulatedScannerOptions {
  deviceId: string;
  /** Suffix a real scanner appends; kept in `raw`, stripped from `label`. */
  suffix?: string;
}

export class SimulatedScanner extends EventEmitter<ScannerEvents> implements Scanner {
  readonly deviceId: string;
  readonly transport = 'simulated' as const;
  #state: ScannerState = 'closed';
  #claimed = false;
  #enabled = false;
  #attached = true;
  readonly #suffix: string;

  constructor(options: SimulatedScannerOptions) {
    super();
    this.deviceId = options.deviceId;
    this.#suffix = options.suffix ?? '\r';
  }

  get state(): ScannerState {
    return this.#state;
  }

  get attached(): boolean {
    return this.#attached && this.#state !== 'closed';
  }

  async open(): Promise<void> {
    if (this.#state !== 'closed') throw scannerError('E_ILLEGAL', 'scanner is already open');
    await tick();
    this.#state = 'idle';
    this.#emitStatus(this.#attached ? 'attached' : 'detached');
  }

  async claim(): Promise<void> {
    this.#assertOpen();
    this.#claimed = true;
  }

  async enable(): Promise<void> {
    this.#assertOpen();
    if (!this.#claimed) throw scannerError('E_NOTCLAIMED', 'claim the scanner before enabling it');
    this.#enabled = true;
  }

  async disable(): Promise<void> {
    this.#enabled = false;
  }

  async close(): Promise<void> {
    this.#enabled = false;
    this.#claimed = false;
    this.#state = 'closed';
    this.removeAllListeners();
  }

  /** Presents a code to the scanner, as a customer does. Resolves once the scan event was emitted (or dropped). */
  async scan(text: string, options: { aimId?: string } = {}): Promise<boolean> {
    await tick();
    if (!this.#enabled || !this.#attached || this.#state === 'closed') return false;
    const aimId = options.aimId ?? (text.startsWith('PC1:') ? ']Q1' : ']C0');
    const label = Buffer.from(text, 'utf8');
    const scan: Scan = {
      deviceId: this.deviceId,
      transport: 'simulated',
      raw: Buffer.concat([Buffer.from(aimId, 'latin1'), label, Buffer.from(this.#suffix, 'latin1')]),
      label,
      text,
      aimId,
      symbology: symbologyOf(aimId),
      receivedAt: Date.now(),
    };
    this.emit('scan', scan);
    return true;
  }

  async unplug(): Promise<void> {
    await tick();
    if (!this.#attached) return;
    this.#attached = false;
    if (this.#state !== 'closed') this.#emitStatus('detached');
  }

  async replug(): Promise<void> {
    await tick();
    if (this.#attached) return;
    this.#attached = true;
    if (this.#state !== 'closed') this.#emitStatus('attached');
  }

  #assertOpen(): void {
    if (this.#state === 'closed') throw scannerError('E_CLOSED', 'open the scanner first');
  }

  #emitStatus(status: ScannerStatusKind): void {
    this.emit('status', { deviceId: this.deviceId, transport: 'simulated', status, at: Date.now() });
  }
}

function symbologyOf(aimId: string): Symbology {
  const map: Record<string, Symbology> = { Q: 'qr', C: 'code128', E: 'ean-upc', A: 'code39', I: 'itf', d: 'datamatrix' };
  return map[aimId[1] ?? ''] ?? 'unknown';
}

function scannerError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
