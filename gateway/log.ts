// The one root logger. Pay codes, keys and scan contents are redacted wherever they appear in a log object;
// modules log through `logger.child({module})`.
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'payCode',
  '*.payCode',
  'code',
  '*.code.text',
  'text',
  '*.text',
  'raw',
  '*.raw',
  'label',
  '*.label',
  'key',
  '*.key',
  'storeKey',
  '*.storeKey',
  'adminKey',
  '*.adminKey',
  'registerKey',
  '*.registerKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'body',
  '*.body',
];

export interface LogOptions {
  level?: string;
  /** Where lines go; stdout when absent. Tests pass a sink to assert on what was written. */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      name: options.name ?? 'tillgate',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/**
 * The service's stdout (`tillgate start`): lines go to a buffer that libuv's thread pool writes out, so that no log
 * line is a write(2) on the event loop the payments share, and a burst of lines leaves in one write. Whatever is
 * still buffered is written synchronously when the process exits (pino registers that), also after an uncaught
 * exception; only a SIGKILL can lose the last few milliseconds of lines. Logs are diagnostics: the ledger is the
 * record, and nothing a register was told waits for a log line.
 */
export function asyncStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

/** Masks a bearer credential for display: its length and last four characters only. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return `…(${value.length} chars)`;
  return `…${value.slice(-4)} (${value.length} chars)`;
}
