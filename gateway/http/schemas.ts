// zod schemas of the register API's bodies and queries (CONTRACT §2). Unknown fields are rejected,
// amounts are positive safe integers, every string and list has a bound.
import { z } from 'zod';
import { GatewayError } from '../errors.js';

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
