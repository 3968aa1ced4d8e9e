// The lanes' scanners: made from config, opened, claimed and enabled; their scans go to the payment service
// and their status to registers (`scanner` events, /v1/status). A scanner that fails to open is reported,
// never fatal: the other lanes and the register's payCode path keep working.
import type { Logger } from 'pino';
import type { ScannerDeps } from '../drivers/factory.js';
import type { Scan, Scanner, ScannerStatus } from '../drivers/scanner.js';
import type { Config } from './config.js';

export interface ScannerView {
  laneId: string;
  deviceId: string;
  transport: string;
  status: ScannerStatus['status'] | 'opening';
  code?: string;
  message?: string;
  since: string;
}

export interface LaneHandlers {
  onScan(laneId: string, scan: Scan): void;
  onStatus(view: ScannerView): void;
}

export class Lanes {
  readonly #scanners = new Map<string, { laneId: string; scanner: Scanner }>();
  readonly #views = new Map<string, ScannerView>();
  readonly #log: Logger;

  /**
   * The lanes' scanners, made from config. The drivers (some twenty modules and serialport) are imported only
   * when a lane has a scanner: a gateway whose registers send the codes would load them for nothing.
   */
  static async create(lanes: Config['lanes'], deps: ScannerDeps, handlers: LaneHandlers): Promise<Lanes> {
    const configured = lanes.flatMap((lane) => lane.scanners.map((config) => ({ laneId: lane.id, config })));
    if (configured.length === 0) return new Lanes([], deps.logger, handlers);
    const { createScanner } = await import('../drivers/factory.js');
    const scanners = configured.map(({ laneId, config }) => ({
      laneId,
      scanner: createScanner(config, deps),
    }));
    return new Lanes(scanners, deps.logger, handlers);
  }

  constructor(
    scanners: readonly { laneId: string; scanner: Scanner }[],
    logger: Logger,
    handlers: LaneHandlers,
  ) {
    this.#log = logger.child({ module: 'lanes' });
    for (const { laneId, scanner } of scanners) {
      this.#scanners.set(scanner.deviceId, { laneId, scanner });
      this.#setView(laneId, scanner, { status: 'opening' }, handlers);
      scanner.on('scan', (scan) => handlers.onScan(laneId, scan));
      scanner.on('status', (status) => this.#setView(laneId, scanner, status, handlers));
    }
  }

  /** Opens every scanner; each failure is logged and shown as status `error`. */
  async open(): Promise<void> {
    await Promise.all(
      [...this.#scanners.values()].map(async ({ laneId, scanner }) => {
        try {
          await scanner.open();
          await scanner.claim(5_000);
          await scanner.enable();
        } catch (error) {
          this.#log.error({ err: error, laneId, deviceId: scanner.deviceId }, 'scanner could not be opened');
          const view = this.#views.get(scanner.deviceId)!;
          this.#views.set(scanner.deviceId, {
            ...view,
            status: 'error',
            code: (error as { code?: string }).code ?? 'E_FAILURE',
            message: (error as Error).message,
            since: new Date().toISOString(),
          });
        }
      }),
    );
  }

  scanner(deviceId: string): Scanner | undefined {
    return this.#scanners.get(deviceId)?.scanner;
  }

  /** The scanners of one lane, in config order. */
  scannersOf(laneId: string): Scanner[] {
    return [...this.#scanners.values()].filter((s) => s.laneId === laneId).map((s) => s.scanner);
  }

  views(): ScannerView[] {
    return [...this.#views.values()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#scanners.values()].map(({ scanner }) => scanner.close()));
  }

  #setView(
    laneId: string,
    scanner: Scanner,
    status: { status: ScannerView['status']; code?: string; message?: string; at?: number },
    handlers: LaneHandlers,
  ): void {
    const view: ScannerView = {
      laneId,
      deviceId: scanner.deviceId,
      transport: scanner.transport,
      status: status.status,
      since: new Date(status.at ?? Date.now()).toISOString(),
    };
    if (status.code !== undefined) view.code = status.code;
    if (status.message !== undefined) view.message = status.message;
    this.#views.set(scanner.deviceId, view);
    if (status.status !== 'opening') handlers.onStatus(view);
  }
}
