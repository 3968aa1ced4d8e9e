// The sandbox wallet's one error type: a code union and the only code→HTTP-status table.
// Route handlers throw a WalletError; the last middleware writes {error: {code, message, ...details}}.

export const WALLET_ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  id_conflict: 409,
  chain_broken: 409,
  refund_exceeds_payment: 409,
  not_refundable: 409,
  no_issuer_key: 409,
  issuer_keys_exhausted: 409,
  payload_too_large: 413,
  internal: 500,
} as const;

export type WalletErrorCode = keyof typeof WALLET_ERROR_STATUS;

export class WalletError extends Error {
  readonly code: WalletErrorCode;
  /** Extra fields written beside code and message, e.g. the `field` of a 400 or the `seq` of a chain break. */
  readonly details: Record<string, unknown>;

  constructor(
    code: WalletErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'WalletError';
    this.code = code;
    this.details = options.details ?? {};
  }

  get status(): number {
    return WALLET_ERROR_STATUS[this.code];
  }

  toJSON(): { error: Record<string, unknown> } {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

/** Express's body parser reports its own errors with a `type`; everything else unknown is `internal`. */
export function toWalletError(error: unknown): WalletError {
  if (error instanceof WalletError) return error;
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large')
    return new WalletError('payload_too_large', 'request body too large', { cause: error });
  if (type === 'entity.parse.failed') {
    return new WalletError('invalid_request', 'body: not valid JSON', {
      cause: error,
      details: { field: 'body' },
    });
  }
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
    return new WalletError('invalid_request', `body: ${type}`, { cause: error, details: { field: 'body' } });
  }
  return new WalletError('internal', 'internal error', { cause: error });
}
