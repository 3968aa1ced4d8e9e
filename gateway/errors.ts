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

/** Anything thrown that is not a GatewayError becomes `internal`, keeping the cause for the log. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('internal', 'internal error', { cause: error });
}
