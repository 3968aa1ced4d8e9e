// The one error type of the driver layer, with UPOS result-code names. Thrown for misuse of the
// Scanner API (claim before open, enable before claim); operating errors become `status` events.
export type ScannerErrorCode =
  | 'E_CLOSED' // the scanner is not open
  | 'E_CLAIMED' // another Scanner in this process holds the device
  | 'E_NOTCLAIMED' // enable before claim
  | 'E_ILLEGAL' // a call that makes no sense in this state
  | 'E_NOSERVICE' // the driver library (node-hid, serialport's native binding) cannot be loaded
  | 'E_NOHARDWARE' // no matching device present
  | 'E_OFFLINE' // the device went away (unplug, read error)
  | 'E_TIMEOUT' // a scan started and did not finish in time
  | 'E_DATA' // a read that was rejected (too long, garbled, not allowed)
  | 'E_FAILURE'; // anything else

export class ScannerError extends Error {
  override readonly name = 'ScannerError';

  constructor(
    readonly code: ScannerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
