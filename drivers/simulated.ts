// A simulated scanner: a real Scanner implementation with controls a test or the demo drives
// (scan, unplug, replug). Events are delivered asynchronously, as hardware delivers them.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { symbologyFromAim } from './aim.js';
import { ScannerError } from './errors.js';
import { LogBudget, SCAN_LOG_LINES, SCAN_LOG_WINDOW_MS } from './log-budget.js';
import { ScanFilter, type ScanFilterOptions, scanLogFields } from './scan-filter.js';
import type { Scan, Scanner, ScannerEvents, ScannerState, ScannerStatusKind } from './scanner.js';

export interface SimulatedScannerOptions {
  deviceId: string;
  /** Suffix a real scanner appends; kept in `raw`, stripped from `label`. */
  suffix?: string;
  /** The driver-boundary checks every scanner applies (dedupe window, lengths...); absent = none. */
  filter?: ScanFilterOptions;
  logger?: Logger;
  now?: () => number;
}

export class SimulatedScanner extends EventEmitter<ScannerEvents> implements Scanner {
  readonly deviceId: string;
  readonly transport = 'simulated' as const;
  #state: ScannerState = 'closed';
  #claimed = false;
  #enabled = false;
  #attached = true;
  readonly #suffix: string;
  readonly #filter: ScanFilter | undefined;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #logBudget: LogBudget;

  constructor(options: SimulatedScannerOptions) {
    super();
    this.deviceId = options.deviceId;
    this.#suffix = options.suffix ?? '\r';
    this.#filter = options.filter === undefined ? undefined : new ScanFilter(options.filter);
    this.#logger = options.logger?.child({
      module: 'drivers',
      deviceId: options.deviceId,
      transport: 'simulated',
    });
    this.#now = options.now ?? Date.now;
    this.#logBudget = new LogBudget({ lines: SCAN_LOG_LINES, windowMs: SCAN_LOG_WINDOW_MS, now: this.#now });
  }

  get state(): ScannerState {
    return this.#state;
  }

  get attached(): boolean {
    return this.#attached && this.#state !== 'closed';
  }

  async open(): Promise<void> {
    if (this.#state !== 'closed') throw new ScannerError('E_ILLEGAL', 'scanner is already open');
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
    if (!this.#claimed) throw new ScannerError('E_NOTCLAIMED', 'claim the scanner before enabling it');
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

  /**
   * Presents a code to the scanner, as a customer does. Resolves true once the scan event was emitted,
   * false when it was dropped (not enabled, unplugged, closed, or refused by the filter).
   */
  async scan(text: string, options: { aimId?: string } = {}): Promise<boolean> {
    await tick();
    if (!this.#enabled || !this.#attached || this.#state === 'closed') return false;
    const aimId = options.aimId ?? (text.startsWith('PC1:') ? ']Q1' : ']C0');
    const label = Buffer.from(text, 'utf8');
    const decoded = {
      raw: Buffer.concat([Buffer.from(aimId, 'latin1'), label, Buffer.from(this.#suffix, 'latin1')]),
      label,
      text,
      aimId,
      symbology: symbologyFromAim(aimId),
    };
    const receivedAt = this.#now();
    const verdict = this.#filter?.check(decoded, receivedAt) ?? { accepted: true };
    if (!verdict.accepted) {
      if (this.#logged())
        this.#logger?.debug(
          { ...scanLogFields(decoded), reason: verdict.reason },
          `scan not delivered: ${verdict.message}`,
        );
      if (verdict.reason !== 'duplicate')
        this.#emitStatus('error', 'E_DATA', `${verdict.reason}: ${verdict.message}`);
      return false;
    }
    const scan: Scan = { deviceId: this.deviceId, transport: 'simulated', ...decoded, receivedAt };
    if (this.#logged()) this.#logger?.info(scanLogFields(decoded), 'scan');
    this.emit('scan', scan);
    return true;
  }

  /** Whether a per-scan line fits this scanner's log budget (a flood of scans must not flood the log). */
  #logged(): boolean {
    return this.#logger === undefined || this.#logBudget.allow(this.#logger);
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
    if (this.#state === 'closed') throw new ScannerError('E_CLOSED', 'open the scanner first');
  }

  #emitStatus(status: ScannerStatusKind, code?: string, message?: string): void {
    const event = { deviceId: this.deviceId, transport: 'simulated' as const, status, at: this.#now() };
    this.emit('status', { ...event, ...(code === undefined ? {} : { code, message }) });
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
