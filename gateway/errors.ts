// One error type for the gateway, with a code union and the only table of HTTP statuses.
// Express 5 handlers just throw; the last middleware turns a GatewayError into {error: {code, message}}.

export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  lane_busy: 409,
  idempotency_in_flight: 409,
  payment_too_large: 413,
  idempotency_conflict: 422,
  refund_exceeds_payment: 422,
  refund_declined: 422,
  not_allowed: 409,
  rate_limited: 429,
  shutting_down: 503,
  overloaded: 503,
  wallet_unavailable: 503,
  storage_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    if (options.details) this.details = options.details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/**
 * SQLite's answers about the disk or the database file rather than the request, by primary result code (an extended
 * one such as SQLITE_IOERR_WRITE counts as its primary), and what an operator does about each.
 */
const STORAGE_FAULTS: Readonly<Record<string, string>> = {
  SQLITE_FULL: 'the disk is full; free space on it',
  SQLITE_IOERR: 'the disk reported an I/O error; check the disk',
  SQLITE_CORRUPT: 'the database file is damaged; stop the gateway and restore it from `tillgate backup`',
  SQLITE_NOTADB: 'the database file is damaged; stop the gateway and restore it from `tillgate backup`',
  SQLITE_READONLY: 'the database file cannot be written; check its permissions and the disk',
  SQLITE_CANTOPEN: 'the database file cannot be opened; check its permissions and the disk',
  SQLITE_BUSY: 'another process holds the database; stop it',
  SQLITE_LOCKED: 'another process holds the database; stop it',
  // gateway/db/commit-group.ts: SQLite undid a group commit on its own (a full or failing disk).
  SQLITE_GROUP_LOST: 'the disk did not take the last writes; check the disk and free space on it',
};

/** SQLite's primary result code of an error (SQLITE_IOERR for SQLITE_IOERR_WRITE); undefined for other errors. */
export function sqlitePrimaryCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  return code.split('_', 2).join('_');
}

/** The operator's line for a storage fault, with its SQLite code; undefined for any other error. */
export function storageFault(error: unknown): string | undefined {
  const primary = sqlitePrimaryCode(error);
  if (primary === undefined) return undefined;
  const code = (error as { code: string }).code;
  const advice = STORAGE_FAULTS[code] ?? STORAGE_FAULTS[primary];
  return advice === undefined ? undefined : `storage unavailable (${code}): ${advice}`;
}

/**
 * Anything thrown that is not a GatewayError becomes `internal`, keeping the cause for the log; a storage fault
 * becomes `storage_unavailable` (503), so that a register hears what is wrong rather than "internal error".
 */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const fault = storageFault(error);
  if (fault !== undefined) return new GatewayError('storage_unavailable', fault, { cause: error });
  return new GatewayError('internal', 'internal error', { cause: error });
}
