// The shell every hardware scanner shares: the UPOS lifecycle (open → claim → enable), one device
// session at a time, reopen with backoff after an unplug, presence polling as the fallback unplug
// detector, and the payment-safety filter between a decoder's output and the `scan` event.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { DecoderEvent, RejectReason } from './decoded-scan.js';
import { ScannerError, type ScannerErrorCode } from './errors.js';
import { type BackoffOptions, backoffDelayMs, PollingWatcher } from './hotplug.js';
import { LogBudget, SCAN_LOG_LINES, SCAN_LOG_WINDOW_MS } from './log-budget.js';
import { ScanFilter, type ScanFilterOptions, scanLogFields } from './scan-filter.js';
import type {
  Scan,
  Scanner,
  ScannerEvents,
  ScannerState,
  ScannerStatusKind,
  ScannerTransport,
} from './scanner.js';

export interface ReconnectOptions extends BackoffOptions {
  /** How often the device list is polled to notice an unplug nothing reported, and a replug. 0 = never. */
  presencePollMs: number;
}

export interface DeviceScannerOptions {
  deviceId: string;
  transport: ScannerTransport;
  logger: Logger;
  filter: ScanFilterOptions;
  reconnect: ReconnectOptions;
  now?: () => number;
  random?: () => number;
}

/** What a transport's `connect` gets: where to send decoded events, and how to say the device is gone. */
export interface SessionHooks {
  events(events: readonly DecoderEvent[]): void;
  lost(error: Error): void;
}

/** An open device. `close` must discard any unfinished scan and never throw. */
export interface DeviceSession {
  /** The key under which `enumerate` lists this device (a path). */
  readonly deviceKey: string;
  close(): Promise<void>;
}

/** Logical devices claimed in this process (UPOS exclusive use). */
const claims = new Map<string, DeviceScanner>();
const CLAIM_POLL_MS = 25;

export abstract class DeviceScanner extends EventEmitter<ScannerEvents> implements Scanner {
  readonly deviceId: string;
  readonly transport: ScannerTransport;
  protected readonly logger: Logger;
  protected readonly now: () => number;
  readonly #filter: ScanFilter;
  /** Per-scan lines (reads, rejections, double reads): a flood of scans must not flood the log. */
  readonly #scanLog: LogBudget;
  readonly #reconnect: ReconnectOptions;
  readonly #random: () => number;
  #state: ScannerState = 'closed';
  #claimed = false;
  #enabled = false;
  #session: DeviceSession | undefined;
  /** Bumped on every connect, loss and close: hooks of an older session go quiet. */
  #generation = 0;
  #connecting = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #watcher: PollingWatcher | undefined;
  #reported: ScannerStatusKind | undefined;
  #openedAtEnumeration = 0;

  constructor(options: DeviceScannerOptions) {
    super();
    this.deviceId = options.deviceId;
    this.transport = options.transport;
    this.logger = options.logger.child({
      module: 'drivers',
      deviceId: options.deviceId,
      transport: options.transport,
    });
    this.now = options.now ?? Date.now;
    this.#filter = new ScanFilter(options.filter);
    this.#scanLog = new LogBudget({ lines: SCAN_LOG_LINES, windowMs: SCAN_LOG_WINDOW_MS, now: this.now });
    this.#reconnect = options.reconnect;
    this.#random = options.random ?? Math.random;
  }

  /** Finds and opens the device. Throws ScannerError: E_NOHARDWARE when absent, E_NOSERVICE when it never can. */
  protected abstract connect(hooks: SessionHooks): Promise<DeviceSession>;

  /** Keys of the matching devices present now, for presence polling. */
  protected abstract enumerate(): Promise<readonly string[]>;

  get state(): ScannerState {
    return this.#state;
  }

  get attached(): boolean {
    return this.#session !== undefined;
  }

  async open(): Promise<void> {
    if (this.#state !== 'closed') throw new ScannerError('E_ILLEGAL', 'scanner is already open');
    this.#state = 'idle';
    this.#reported = undefined;
    this.#attempt = 0;
    if (this.#reconnect.presencePollMs > 0) this.#startWatcher();
    await this.#connect();
  }

  async claim(timeoutMs = 0): Promise<void> {
    this.#assertOpen();
    // Counted in polls rather than read from `now`, which tests may hold still.
    for (
      let waitedMs = 0;
      claims.has(this.deviceId) && claims.get(this.deviceId) !== this;
      waitedMs += CLAIM_POLL_MS
    ) {
      if (waitedMs >= timeoutMs)
        throw new ScannerError('E_CLAIMED', `${this.deviceId} is claimed by another scanner`);
      await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
      this.#assertOpen();
    }
    claims.set(this.deviceId, this);
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
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#generation++;
    this.#enabled = false;
    this.#claimed = false;
    if (claims.get(this.deviceId) === this) claims.delete(this.deviceId);
    clearTimeout(this.#retryTimer);
    this.#watcher?.stop();
    this.#watcher = undefined;
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }

  #assertOpen(): void {
    if (this.#state === 'closed') throw new ScannerError('E_CLOSED', 'open the scanner first');
  }

  async #connect(): Promise<void> {
    if (this.#state !== 'idle' || this.#session !== undefined || this.#connecting) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#connecting = true;
    const generation = ++this.#generation;
    let session: DeviceSession;
    try {
      session = await this.connect(this.#hooks(generation));
    } catch (error) {
      this.#connecting = false;
      if (generation === this.#generation) this.#connectFailed(error);
      return;
    }
    this.#connecting = false;
    if (generation !== this.#generation) {
      await session.close(); // closed, or lost while opening
      if (this.#state === 'idle' && this.#session === undefined && this.#retryTimer === undefined) {
        this.#scheduleRetry();
      }
      return;
    }
    this.#session = session;
    this.#openedAtEnumeration = this.#watcher?.started ?? 0;
    this.#attempt = 0;
    this.logger.info({ device: session.deviceKey }, 'scanner attached');
    this.#status('attached');
  }

  #connectFailed(error: unknown): void {
    const scannerError =
      error instanceof ScannerError
        ? error
        : new ScannerError('E_FAILURE', errorMessage(error), { cause: error });
    if (scannerError.code === 'E_NOSERVICE') {
      this.#state = 'error';
      this.#watcher?.stop();
      this.logger.error({ code: scannerError.code }, scannerError.message);
      this.#status('error', scannerError.code, scannerError.message);
      return;
    }
    if (this.#reported !== 'detached') {
      this.logger.warn({ code: scannerError.code }, `scanner not available: ${scannerError.message}`);
      this.#status('detached', scannerError.code, scannerError.message);
    }
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer);
    const delayMs = backoffDelayMs(this.#attempt++, this.#reconnect, this.#random);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, delayMs);
    this.#retryTimer.unref();
  }

  #hooks(generation: number): SessionHooks {
    return {
      events: (events) => {
        if (generation === this.#generation) for (const event of events) this.#handle(event);
      },
      lost: (error) => {
        if (generation === this.#generation) void this.#lose(error);
      },
    };
  }

  async #lose(error: Error): Promise<void> {
    const generation = ++this.#generation;
    const session = this.#session;
    this.#session = undefined;
    const message = `device lost: ${error.message}`;
    this.logger.warn({ code: 'E_OFFLINE' }, message);
    this.#status('detached', 'E_OFFLINE', message);
    await session?.close(); // drops any unfinished scan
    if (generation === this.#generation && this.#state === 'idle' && !this.#connecting) this.#scheduleRetry();
  }

  #startWatcher(): void {
    const watcher = new PollingWatcher({
      enumerate: () => this.enumerate(),
      intervalMs: this.#reconnect.presencePollMs,
    });
    watcher.on('polled', (present, enumeration) => {
      const session = this.#session;
      // A list that began before the device was opened says nothing about it.
      if (
        session !== undefined &&
        enumeration > this.#openedAtEnumeration &&
        !present.has(session.deviceKey)
      ) {
        this.#hooks(this.#generation).lost(new Error('no longer in the device list'));
      }
    });
    watcher.on('attach', () => {
      if (this.#session === undefined && !this.#connecting) void this.#connect();
    });
    watcher.on('error', (error) => this.logger.debug({ err: error.message }, 'device enumeration failed'));
    watcher.start();
    this.#watcher = watcher;
  }

  #handle(event: DecoderEvent): void {
    const logged = this.#scanLog.allow(this.logger);
    if (event.kind === 'rejected') {
      if (logged)
        this.logger.warn(
          { reason: event.reason, likelyLayout: event.likelyLayout },
          `read rejected: ${event.message}`,
        );
      this.#status('error', rejectCode(event.reason), `${event.reason}: ${event.message}`);
      return;
    }
    // The masked fields are made only for a line that is written, and after the scan has gone to its lane.
    if (!this.#enabled) {
      if (logged) this.logger.debug(scanLogFields(event.scan), 'scan dropped: scanner not enabled');
      return;
    }
    const atMs = this.now();
    const verdict = this.#filter.check(event.scan, atMs);
    if (!verdict.accepted) {
      if (verdict.reason === 'duplicate') {
        if (logged) this.logger.debug(scanLogFields(event.scan), `double read ignored: ${verdict.message}`);
        return;
      }
      if (logged)
        this.logger.warn(
          { ...scanLogFields(event.scan), reason: verdict.reason },
          `scan rejected: ${verdict.message}`,
        );
      this.#status('error', 'E_DATA', `${verdict.reason}: ${verdict.message}`);
      return;
    }
    const scan: Scan = {
      deviceId: this.deviceId,
      transport: this.transport,
      ...event.scan,
      receivedAt: atMs,
    };
    // The scan goes to its lane first and is logged after: a log write is a syscall, and it is not on the
    // cashier's path (bench/scan-path.ts).
    this.#emitSafely('scan', scan);
    if (logged) this.logger.info(scanLogFields(event.scan), 'scan');
  }

  #status(status: ScannerStatusKind, code?: ScannerErrorCode, message?: string): void {
    if (status !== 'error') this.#reported = status;
    const event = { deviceId: this.deviceId, transport: this.transport, status, at: this.now() };
    this.#emitSafely('status', {
      ...event,
      ...(code === undefined ? {} : { code }),
      ...(message === undefined ? {} : { message }),
    });
  }

  /** A listener that throws must not take the device's read loop down with it. */
  #emitSafely<E extends keyof ScannerEvents>(event: E, ...args: ScannerEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: ScannerEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      this.logger.error({ err: errorMessage(error), event }, 'scanner event listener threw');
    }
  }
}

function rejectCode(reason: RejectReason): ScannerErrorCode {
  return reason === 'truncated' ? 'E_TIMEOUT' : 'E_DATA';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
