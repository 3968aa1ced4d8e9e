// Every request body and query the wallet accepts, as strict zod schemas, and the one parse helper:
// a failure is a 400 whose message and `field` name the first offending field. A ledger batch has a quicker check
// for well-formed batches in front of its schema (parseLedgerBatch).
import express from 'express';
import * as z from 'zod';
import { ENTRY_TYPES, type EntryType, type LedgerEntry } from '../gateway/ledger/chain.js';
import { WalletError } from './errors.js';
import { LEDGER_LIMITS, type LedgerBatch } from './ledger-ingest.js';
import { FEED_LIMITS } from './risk-feed.js';

export const BODY_LIMITS = {
  bodyBytesMax: 64 * 1024,
  /** A full ledger batch (LEDGER_LIMITS.batchEntriesMax entries) fits in this. */
  batchBodyBytesMax: 2 * 1024 * 1024,
} as const;

/** JSON body parsers; routes put them after authentication, so a stranger gets 401 before any parsing. */
export const jsonBody = express.json({ limit: BODY_LIMITS.bodyBytesMax });
export const batchJsonBody = express.json({ limit: BODY_LIMITS.batchBodyBytesMax });

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const STORE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const CURRENCY = /^[A-Z]{3}$/;
const U32_MAX = 0xffff_ffff;
const LABEL_LENGTH_MAX = 128;
const Id = z.string().regex(ID, 'expected 1–128 of A–Z a–z 0–9 . _ : -');
export const StoreId = z.string().regex(STORE_ID, 'expected 1–64 of A–Z a–z 0–9 . _ -');
const Hex16 = z.string().regex(HEX16, 'expected 16 lower-case hex characters');
const Hex64 = z.string().regex(HEX64, 'expected 64 lower-case hex characters');
/** Minor units; z.int() is bounded to safe integers. */
const Amount = z.int().positive();
const Currency = z.string().regex(CURRENCY, 'expected an ISO 4217 code');
const U32 = z.int().min(0).max(U32_MAX);
const Label = z.string().min(1).max(LABEL_LENGTH_MAX);
const OccurredAt = z.iso.datetime({ offset: true });

export const AuthorizationRequestSchema = z.strictObject({
  id: Id,
  storeId: StoreId,
  laneId: Label,
  payCode: z.string().max(1024),
  amount: Amount,
  currency: Currency,
  basket: z
    .array(z.strictObject({ category: z.string().min(1).max(64), amount: Amount }))
    .max(500)
    .optional(),
  createdAt: z.int().nonnegative(),
});

export const EmptyBodySchema = z.strictObject({}).optional();

export const RefundRequestSchema = z.strictObject({ id: Id, authorizationId: Id, amount: Amount });

/** null is taken for an absent optional field: the hash treats them alike (gateway/ledger/chain.ts). */
const LedgerEntrySchema = z.strictObject({
  seq: z.int().positive(),
  entryId: Id,
  type: z.enum(ENTRY_TYPES),
  mode: z.enum(['online', 'offline']),
  paymentId: Id,
  authorizationId: Id,
  amount: Amount,
  currency: Currency,
  accountId: Hex16.nullish(),
  deviceId: Hex16.nullish(),
  counter: U32.nullish(),
  laneId: Label,
  registerId: Label,
  occurredAt: OccurredAt,
  prevHash: Hex64,
  hash: Hex64,
});

/**
 * The entry as the ledger holds it, optional fields absent rather than null. Written out field by field and run
 * once per batch, not as a transform per entry: at a batch of 1,000 that is about a third of the parse time.
 */
function asLedgerEntry(entry: z.infer<typeof LedgerEntrySchema>): LedgerEntry {
  const out: LedgerEntry = {
    seq: entry.seq,
    entryId: entry.entryId,
    type: entry.type,
    mode: entry.mode,
    paymentId: entry.paymentId,
    authorizationId: entry.authorizationId,
    amount: entry.amount,
    currency: entry.currency,
    laneId: entry.laneId,
    registerId: entry.registerId,
    occurredAt: entry.occurredAt,
    prevHash: entry.prevHash,
    hash: entry.hash,
  };
  if (entry.accountId != null) out.accountId = entry.accountId;
  if (entry.deviceId != null) out.deviceId = entry.deviceId;
  if (entry.counter != null) out.counter = entry.counter;
  return out;
}

export const LedgerBatchSchema = z
  .strictObject({
    storeId: StoreId,
    batchId: Id,
    entries: z.array(LedgerEntrySchema).max(LEDGER_LIMITS.batchEntriesMax),
  })
  .transform((batch) => ({ ...batch, entries: batch.entries.map(asLedgerEntry) }));

/**
 * A ledger batch body as LedgerBatchSchema gives it. The schema took about 13 µs per entry in a profile of the
 * backlog upload (bench/sync-backlog.ts), this check about 4: a well-formed batch is checked here field by field,
 * with the schema's own patterns and bounds, and anything else goes to the schema, whose error names the offending
 * field. The check accepts nothing the schema refuses (schemas.test.ts holds the two to the same answer).
 */
export function parseLedgerBatch(body: unknown): LedgerBatch {
  return wellFormedBatch(body) ?? parse(LedgerBatchSchema, body);
}

function wellFormedBatch(body: unknown): LedgerBatch | null {
  if (!isRecord(body) || Object.keys(body).length !== 3) return null;
  const { storeId, batchId, entries } = body;
  if (!matches(storeId, STORE_ID) || !matches(batchId, ID)) return null;
  if (!Array.isArray(entries) || entries.length > LEDGER_LIMITS.batchEntriesMax) return null;
  const out: LedgerEntry[] = [];
  for (const entry of entries) {
    const checked = wellFormedEntry(entry);
    if (checked === null) return null;
    out.push(checked);
  }
  return { storeId, batchId, entries: out };
}

const OPTIONAL_ENTRY_KEYS = ['accountId', 'deviceId', 'counter'];

/** Thirteen fields are required; the key count then proves there is none but the optional three. */
function wellFormedEntry(entry: unknown): LedgerEntry | null {
  if (!isRecord(entry)) return null;
  const { seq, entryId, type, mode, paymentId, authorizationId, amount, currency, laneId, registerId } =
    entry;
  const { occurredAt, prevHash, hash, accountId, deviceId, counter } = entry;
  const wellFormed =
    isInt(seq, 1) &&
    matches(entryId, ID) &&
    ENTRY_TYPES.includes(type as EntryType) &&
    (mode === 'online' || mode === 'offline') &&
    matches(paymentId, ID) &&
    matches(authorizationId, ID) &&
    isInt(amount, 1) &&
    matches(currency, CURRENCY) &&
    isLabel(laneId) &&
    isLabel(registerId) &&
    typeof occurredAt === 'string' &&
    OccurredAt.safeParse(occurredAt).success &&
    matches(prevHash, HEX64) &&
    matches(hash, HEX64) &&
    (accountId == null || matches(accountId, HEX16)) &&
    (deviceId == null || matches(deviceId, HEX16)) &&
    (counter == null || isInt(counter, 0, U32_MAX));
  const optional = OPTIONAL_ENTRY_KEYS.filter((key) => Object.hasOwn(entry, key)).length;
  if (!wellFormed || Object.keys(entry).length !== 13 + optional) return null;
  return asLedgerEntry(entry as z.infer<typeof LedgerEntrySchema>);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matches(value: unknown, pattern: RegExp): value is string {
  return typeof value === 'string' && pattern.test(value);
}

/** As z.int(): a safe integer, here within [min, max]. */
function isInt(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

function isLabel(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= LABEL_LENGTH_MAX;
}

export const EnrollRequestSchema = z.strictObject({
  accountId: Hex16,
  publicKey: Hex64,
  enrolledAt: U32.optional(),
  offlineLimit: U32.optional(),
  expiresAt: U32.optional(),
});

export const RiskFeedQuerySchema = z.object({
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'expected a cursor from an earlier answer')
    .optional(),
  waitMs: z.coerce.number().int().min(0).max(FEED_LIMITS.waitMsMax).default(0),
});

export const CreateAccountSchema = z.strictObject({
  balance: z.int().nonnegative(),
  currency: Currency.default('JPY'),
});

export const CreateStoreSchema = z.strictObject({
  storeId: StoreId,
  /** On a rotation, how long the key being replaced keeps working (seconds; 0: it stops at once). */
  previousKeyGraceSec: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .optional(),
});

export const NumericCodeRequestSchema = z.strictObject({ accountId: Hex16 });

/** The offline limits of CONTRACT §4 under the gateway's config names (offline.*); at least one. */
export const LimitsSchema = z
  .strictObject({
    perTransactionLimit: Amount.optional(),
    perDeviceLimit: Amount.optional(),
    consecutiveMax: z.int().positive().max(1000).optional(),
    storeLimit: Amount.optional(),
    feedMaxAgeSec: z.int().positive().optional(),
    deviceMinAgeSec: z.int().nonnegative().optional(),
    restrictedCategories: z.array(z.string().min(1).max(64)).max(100).optional(),
  })
  .refine((limits) => Object.keys(limits).length > 0, 'name at least one limit');

export const FaultSchema = z
  .strictObject({
    path: z.string().startsWith('/').max(256),
    latencyMs: z.int().min(0).max(60_000).optional(),
    hang: z.boolean().optional(),
    reset: z.boolean().optional(),
    status: z.int().min(400).max(599).optional(),
    rate: z.number().min(0).max(1).default(1),
    phase: z.enum(['before', 'after']).default('before'),
    count: z.int().positive().optional(),
  })
  .refine(
    (fault) => [fault.hang, fault.reset, fault.status !== undefined].filter(Boolean).length <= 1,
    'at most one of hang, reset, status',
  )
  .refine(
    (fault) => fault.hang || fault.reset || fault.status !== undefined || fault.latencyMs !== undefined,
    'name an effect: latencyMs, hang, reset or status',
  );

export const PathIdSchema = Id;
export const PathHex16Schema = Hex16;
export const PathKidSchema = z.coerce.number().int().min(0).max(255);
export const SettledQuerySchema = z.object({
  afterSeq: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().positive().max(10_000).default(10_000),
});

export function parse<T>(schema: z.ZodType<T, unknown>, value: unknown, where = 'body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  const field = path.length > 0 ? path.map(String).join('.') : where;
  throw new WalletError('invalid_request', `${field}: ${issue.message}`, { details: { field } });
}
