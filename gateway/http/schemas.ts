// zod schemas of the register API (CONTRACT §2): the bodies and queries it parses (unknown fields rejected,
// amounts positive safe integers, every string and list bounded), then the answers and events it sends.
import * as z from 'zod';
import { DECLINE_REASONS } from '../decline-reasons.js';
import { ERROR_STATUS, type ErrorCode, GatewayError } from '../errors.js';
import { PAYMENT_STATES } from '../payments/payment.js';

export const Amount = z
  .number({ error: 'must be a number' })
  .int('must be an integer in minor units')
  .positive('must be positive')
  .max(Number.MAX_SAFE_INTEGER, 'must be a safe integer');

export interface SchemaBounds {
  orderRefMaxLength: number;
  basketLinesMax: number;
}

export function createPaymentSchema(bounds: SchemaBounds) {
  return z.strictObject({
    amount: Amount,
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as JPY'),
    orderRef: z.string().min(1, 'must not be empty').max(bounds.orderRefMaxLength),
    basket: z
      .array(
        z.strictObject({
          category: z.string().min(1).max(64),
          amount: Amount,
        }),
      )
      .max(bounds.basketLinesMax)
      .optional(),
    /** The scanned code when the register reads it itself; PC1 is 301 characters, numeric 20. */
    payCode: z.string().min(1).max(1024).optional(),
  });
}

export const RefundSchema = z.strictObject({ amount: Amount });

export const WaitQuerySchema = z.strictObject({
  waitMs: z.coerce.number().int().min(0).max(30_000).optional(),
});

/** Parses or throws a 400 that names the first offending field (never echoing its value). */
export function parseBody<T>(schema: z.ZodType<T>, input: unknown, what = 'body'): T {
  const result = schema.safeParse(input === undefined ? {} : input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : undefined;
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`
      : `${field ?? what}: ${issue.message}`;
  const fieldName = issue.code === 'unrecognized_keys' ? issue.keys[0] : field;
  throw new GatewayError(
    'invalid_request',
    message,
    fieldName === undefined ? {} : { details: { field: fieldName } },
  );
}

// Responses and events of the register API. The handlers build these values from the domain types; the schemas
// describe them for the OpenAPI document (openapi.ts) and for tests that check live answers against them.

const Rfc3339 = z.string().meta({ format: 'date-time' });
const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);
const Mode = z.enum(['online', 'offline']);

export const BasketLineSchema = z.strictObject({ category: z.string(), amount: Amount });

export const PaymentSchema = z
  .strictObject({
    id: z.string(),
    state: z.enum(PAYMENT_STATES),
    amount: Amount,
    currency: z.string(),
    orderRef: z.string(),
    laneId: z.string(),
    registerId: z.string(),
    basket: z.array(BasketLineSchema).optional(),
    mode: Mode.optional().meta({ description: 'How it was decided; shown to the cashier.' }),
    decision: z
      .strictObject({
        approved: z.boolean(),
        reason: z.enum(DECLINE_REASONS).optional(),
        authorizationId: z.string().optional(),
      })
      .optional(),
    accountId: Hex16.optional().meta({ description: 'Set on an approval.' }),
    refundedAmount: Amount.optional(),
    createdAt: Rfc3339,
    decidedAt: Rfc3339.optional(),
  })
  .meta({ description: 'A payment (CONTRACT §2).' });

export const RefundResultSchema = z.strictObject({
  refund: z.strictObject({
    id: z.string(),
    paymentId: z.string(),
    amount: Amount,
    state: z.enum(['pending', 'succeeded', 'failed']),
    reason: z.string().optional(),
  }),
  payment: PaymentSchema,
});

export const ErrorSchema = z.strictObject({
  error: z.looseObject({
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    field: z.string().optional().meta({ description: 'The offending field of a 400.' }),
  }),
});

export const ScannerViewSchema = z.strictObject({
  laneId: z.string(),
  deviceId: z.string(),
  transport: z.string(),
  status: z.enum(['opening', 'attached', 'detached', 'error']),
  code: z.string().optional().meta({ description: 'UnifiedPOS result code, e.g. E_NOHARDWARE.' }),
  message: z.string().optional(),
  since: Rfc3339,
});

export const ScanNoticeSchema = z.strictObject({
  laneId: z.string(),
  deviceId: z.string(),
  symbology: z.string(),
  receivedAt: Rfc3339,
  outcome: z.enum(['taken', 'dropped']),
  paymentId: z.string().optional(),
});

export const ModeChangeSchema = z.strictObject({ mode: Mode, since: Rfc3339 });

/** `/v1/status`. Sections owned by offline/ and sync/ are open to new fields. */
export const StatusSchema = z.strictObject({
  storeId: z.string(),
  mode: Mode,
  modeSince: Rfc3339,
  register: z
    .strictObject({ id: z.string(), laneId: z.string() })
    .meta({ description: 'The register whose key made this call.' }),
  wallet: z.strictObject({ reachable: z.boolean(), lastContactAt: Rfc3339.nullable() }),
  payments: z.strictObject({ open: z.number().int() }),
  ledger: z.strictObject({ headSeq: z.number().int() }),
  scanners: z.array(ScannerViewSchema),
  accepting: z.boolean(),
  offline: z.looseObject({
    enabled: z.boolean(),
    since: Rfc3339.nullable(),
    storeExposure: z.number().int(),
    storeHeadroom: z.number().int(),
    limits: z.looseObject({
      perTransactionLimit: z.number().int(),
      perDeviceLimit: z.number().int(),
      storeLimit: z.number().int(),
      consecutiveMax: z.number().int(),
      feedMaxAgeSec: z.number().int(),
    }),
    feed: z.looseObject({ refreshedAt: Rfc3339.nullable(), stale: z.boolean() }),
    devices: z.array(
      z.looseObject({ deviceId: z.string(), unsyncedTotal: z.number().int(), headroom: z.number().int() }),
    ),
  }),
  sync: z.looseObject({
    pending: z.number().int(),
    settled: z.number().int(),
    rejected: z.number().int(),
    lossAmount: z.number().int(),
    lossCount: z.number().int(),
    pendingReversals: z.number().int(),
    pendingRefunds: z.number().int(),
    oldestPendingAgeSec: z.number().int().nullable(),
    lastSuccessAt: Rfc3339.nullable(),
    chainBroken: z.looseObject({ seq: z.number().int(), problem: z.string() }).optional(),
    feed: z.looseObject({ ageSec: z.number().int().nullable(), refreshedAt: Rfc3339.nullable() }),
  }),
});
