// The scanner contract: what every transport (simulated, serial, HID POS, HID keyboard-wedge) provides.
// Modelled on UnifiedPOS: open → claim → enable; scans arrive as events only while enabled.
// Types only; implementations are siblings of this file.

export type ScannerTransport = 'simulated' | 'serial' | 'hid-pos' | 'hid-keyboard';

/** UPOS device states. */
export type ScannerState = 'closed' | 'idle' | 'busy' | 'error';

/** Normalised symbology, from the AIM identifier when the device sends one. */
export type Symbology =
  | 'qr'
  | 'code128'
  | 'gs1-128'
  | 'ean-upc'
  | 'code39'
  | 'itf'
  | 'datamatrix'
  | 'pdf417'
  | 'aztec'
  | 'other'
  | 'unknown';

export interface Scan {
  /** Stable identity of the device that read it (config id, or vid:pid:serial). */
  deviceId: string;
  transport: ScannerTransport;
  /** Every byte the device sent for this scan, prefix and suffix included. */
  raw: Uint8Array;
  /** The label: raw without AIM identifier, prefix and suffix. */
  label: Uint8Array;
  /** The label decoded as text (UTF-8 unless the transport says otherwise). A bearer credential: never log it. */
  text: string;
  /** AIM symbology identifier such as "]Q1", when present. */
  aimId?: string;
  symbology: Symbology;
  /** Wall-clock time of the last byte, ms since the epoch. */
  receivedAt: number;
}

export type ScannerStatusKind = 'attached' | 'detached' | 'error';

export interface ScannerStatus {
  deviceId: string;
  transport: ScannerTransport;
  status: ScannerStatusKind;
  /** UPOS-style code for errors, e.g. E_NOHARDWARE, E_TIMEOUT, E_FAILURE. */
  code?: string;
  /** Human-readable, never containing scan contents. */
  message?: string;
  at: number;
}

export interface ScannerEvents {
  scan: [scan: Scan];
  status: [status: ScannerStatus];
}

/**
 * A lane's scanner.
 * - `open` finds the device; `claim` takes it exclusively; `enable` starts delivering `scan` events.
 * - A scan is emitted at most once. Bytes of an unfinished scan are discarded on unplug, never emitted.
 * - Operating errors (unplug, read error) are reported as `status` events, never thrown from callbacks;
 *   an unplugged device is reopened by the implementation where it can be.
 * - `close` releases the device; after it no event is emitted.
 */
export interface Scanner {
  readonly deviceId: string;
  readonly transport: ScannerTransport;
  readonly state: ScannerState;
  /** True while the device is present and readable. */
  readonly attached: boolean;
  open(): Promise<void>;
  claim(timeoutMs?: number): Promise<void>;
  enable(): Promise<void>;
  disable(): Promise<void>;
  close(): Promise<void>;
  on<E extends keyof ScannerEvents>(event: E, listener: (...args: ScannerEvents[E]) => void): this;
  off<E extends keyof ScannerEvents>(event: E, listener: (...args: ScannerEvents[E]) => void): this;
}
