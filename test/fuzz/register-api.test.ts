// Fuzz of the register API (CONTRACT §2) over real HTTP against a real store (sandbox wallet + gateway, SQLite):
// random and adversarial bodies, headers, paths and query strings, and pay codes that are almost valid (mutated
// from real codes the sandbox phone made), mixed with genuine ones. What must hold for every input: no 5xx the
// gateway did not log a reason for, every refusal a 4xx `{error: {code, message}}` with the status of its code, a
// wrong key never gets past 401 nor creates anything, no approval but from a genuine code used once (a mutated,
// replayed or overtaken code never), and no answer or log line carrying a register key or a pay code. Afterwards
// the gateway still takes a normal payment. Fast inside `npm test`; TILLGATE_CHAOS=long runs far more inputs.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../gateway/errors.js';
import { formatPc1, parsePc1 } from '../../gateway/paycode/pc1.js';
import type { SandboxPhone } from '../../wallet/sandbox-phone.js';
import { chaosCount, chaosReport, chaosSettings } from '../support/chaos.js';
import { type Json, nowSec, type Stack, startStack } from '../support/stack.js';
import { CrashWatch, leakedSecret, type RawReply, rawRequest } from './support.js';

const settings = chaosSettings();
const RUNS = chaosCount(settings, 400, 20_000);
/** An input takes milliseconds; the bound leaves room for a busy machine. */
const TEST_TIMEOUT_MS = 60_000 + RUNS * 100;
const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const BODY_LIMIT_BYTES = 16_384;

let stack: Stack;
let phone: SandboxPhone;
let otherPhone: SandboxPhone;
const watch = new CrashWatch();

/** Every genuine code a phone made, sent or not, by its SHA-256. */
const genuine = new Map<string, string>();
/** Genuine codes sent as the payCode of a request (replays pick from them), and their SHA-256. */
const sentGenuine: string[] = [];
const sentHashes = new Set<string>();
/** Genuine codes made and never sent: sent later, after newer codes, they are overtaken (code_replayed). */
const unsent: string[] = [];
const mutatedSent = new Set<string>();
/** The pay codes shown or sent by the input running now: what its answer and its log lines must not carry. */
let runCodes: string[] = [];
/** Genuine codes kept for "overtaken" inputs; older ones have expired anyway. */
const UNSENT_KEPT = 50;
const paymentIds: string[] = [];
const figures = {
  inputs: 0,
  status4xx: 0,
  status5xx: 0,
  parserRefusals: 0,
  approvals: 0,
  approvalsWithoutValidCode: 0,
};
const reasons5xx: string[] = [];

beforeAll(async () => {
  watch.install();
  stack = await startStack({
    config: {
      http: { authFailures: { burst: 10_000, perMinute: 60_000 } },
      offline: { velocity: { enabled: false } },
      // With an operator the dashboard is on (without one, `/` is a 503 page saying it is off, by design).
      operators: [{ id: 'operator-1', keySha256: sha256('an-operator-key-for-the-fuzz') }],
    },
  });
  const accountId = await stack.account(100_000_000);
  phone = await stack.phone(accountId);
  otherPhone = await stack.phone(await stack.account(1_000));
});

afterAll(async () => {
  watch.uninstall();
  await stack?.close();
  chaosReport('fuzz/register-api', {
    seed: settings.seed,
    inputs: figures.inputs,
    '4xx': figures.status4xx,
    '5xx': figures.status5xx,
    '5xxReasons': reasons5xx.length === 0 ? 'none' : [...new Set(reasons5xx)].join('|'),
    parserRefusals: figures.parserRefusals,
    crashes: watch.seen.length,
    approvals: figures.approvals,
    mutatedCodes: mutatedSent.size,
    approvalsWithoutValidCode: figures.approvalsWithoutValidCode,
  });
});

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function mint(from: SandboxPhone = phone): string {
  const code = from.nextCode(nowSec());
  genuine.set(sha256(code), code);
  runCodes.push(code);
  return code;
}

// ——— pay codes: genuine, replayed, overtaken, mutated, random ———

type Mutation =
  | { op: 'flip'; at: number; char: number }
  | { op: 'delete'; at: number }
  | { op: 'insert'; at: number; char: number }
  | { op: 'truncate'; keep: number }
  | { op: 'append'; text: string }
  | { op: 'prefix'; prefix: string }
  | { op: 'lowercase' }
  | { op: 'pad'; pad: string }
  | { op: 'bit'; at: number; bit: number }
  | { op: 'counter'; delta: number }
  | { op: 'foreignSignature' }
  | { op: 'foreignCertificate' };

type CodeSlot =
  | { kind: 'fresh' }
  | { kind: 'replay'; pick: number }
  | { kind: 'overtaken' }
  | { kind: 'mutated'; mutation: Mutation }
  | { kind: 'text'; text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), char: fc.nat(BASE45.length - 1) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), char: fc.nat(BASE45.length - 1) }),
  fc.record({ op: fc.constant('truncate' as const), keep: fc.nat(300) }),
  fc.record({ op: fc.constant('append' as const), text: fc.string({ minLength: 1, maxLength: 6 }) }),
  fc.record({
    op: fc.constant('prefix' as const),
    prefix: fc.constantFrom('', 'pc1:', 'PC2:', 'PC1', 'PC1::', 'PC0:', 'QR:PC1:', 'ＰC1:'),
  }),
  fc.record({ op: fc.constant('lowercase' as const) }),
  fc.record({
    op: fc.constant('pad' as const),
    pad: fc.constantFrom(' ', '\n', '\t', '\u00a0', '\u200b', '\r\n'),
  }),
  fc.record({ op: fc.constant('bit' as const), at: fc.nat(197), bit: fc.nat(7) }),
  fc.record({
    op: fc.constant('counter' as const),
    delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
  }),
  fc.record({ op: fc.constant('foreignSignature' as const) }),
  fc.record({ op: fc.constant('foreignCertificate' as const) }),
);

const codeSlotArb: fc.Arbitrary<CodeSlot> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'fresh' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'overtaken' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('mutated' as const), mutation: mutationArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc
          .string({ unit: fc.constantFrom(...BASE45), minLength: 290, maxLength: 310 })
          .map((s) => `PC1:${s}`),
        fc.stringMatching(/^88\d{18}$/),
        fc.stringMatching(/^\d{1,25}$/),
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        fc.constant(''),
        fc.constant('x'.repeat(1025)),
      ),
    }),
  },
);

function mutate(code: string, mutation: Mutation): string {
  const at = (n: number, length: number) => n % Math.max(1, length);
  switch (mutation.op) {
    case 'flip': {
      const i = 4 + at(mutation.at, code.length - 4);
      const old = BASE45.indexOf(code[i]!);
      const char = BASE45[(old + 1 + (mutation.char % (BASE45.length - 1))) % BASE45.length]!;
      return code.slice(0, i) + char + code.slice(i + 1);
    }
    case 'delete': {
      const i = at(mutation.at, code.length);
      return code.slice(0, i) + code.slice(i + 1);
    }
    case 'insert': {
      const i = at(mutation.at, code.length + 1);
      return code.slice(0, i) + BASE45[mutation.char]! + code.slice(i);
    }
    case 'truncate':
      return code.slice(0, Math.min(mutation.keep, code.length - 1));
    case 'append':
      return code + mutation.text;
    case 'prefix':
      return mutation.prefix + code.slice(4);
    case 'lowercase':
      return code.toLowerCase();
    case 'pad':
      return `${mutation.pad}${code}${mutation.pad}`;
    default:
      return mutateBytes(code, mutation);
  }
}

/** Mutations of the decoded bytes, re-encoded: structurally a PC1 code, but no longer the one the phone signed. */
function mutateBytes(
  code: string,
  mutation: Extract<Mutation, { op: 'bit' | 'counter' | 'foreignSignature' | 'foreignCertificate' }>,
): string {
  const bytes = Buffer.from(parsePc1(code)!.bytes);
  if (mutation.op === 'bit') bytes[mutation.at] = bytes[mutation.at]! ^ (1 << mutation.bit);
  if (mutation.op === 'counter')
    bytes.writeUInt32BE(Math.max(0, bytes.readUInt32BE(126) + mutation.delta), 126);
  if (mutation.op === 'foreignSignature') {
    // The signature of another code of the same phone: a real signature, over other bytes.
    Buffer.from(parsePc1(mint())!.bytes).copy(bytes, 134, 134, 198);
  }
  if (mutation.op === 'foreignCertificate') {
    Buffer.from(parsePc1(mint(otherPhone))!.bytes).copy(bytes, 0, 0, 126);
  }
  return formatPc1(bytes);
}

/** The highest counter of the phone's approved codes so far. */
function highestApprovedCounter(): number {
  const row = stack.gateway.db
    .prepare('SELECT max(counter) AS counter FROM payments WHERE approved = 1 AND device_id = ?')
    .get(phone.deviceId) as { counter: number | null };
  return row.counter ?? 0;
}

/**
 * The text a slot stands for, and whether it is one of the phone's own codes. Genuine codes go to `sentGenuine`;
 * whether one may be approved is for checkApprovals (unused, in counter order); any other code never may.
 */
function materialize(slot: CodeSlot): { code: string; genuine: boolean } {
  const sendGenuine = (code: string) => {
    sentGenuine.push(code);
    sentHashes.add(sha256(code));
    runCodes.push(code);
    return { code, genuine: true };
  };
  if (slot.kind === 'fresh') return sendGenuine(mint());
  if (slot.kind === 'replay' && sentGenuine.length > 0)
    return sendGenuine(sentGenuine[slot.pick % sentGenuine.length]!);
  if (slot.kind === 'overtaken') {
    const highest = highestApprovedCounter();
    const overtaken = unsent.findIndex((code) => parsePc1(code)!.counter < highest);
    if (overtaken >= 0) return sendGenuine(unsent.splice(overtaken, 1)[0]!);
  }
  if (slot.kind === 'mutated') {
    const base = mint();
    const code = mutate(base, slot.mutation);
    if (genuine.has(sha256(code))) throw new Error(`mutation ${slot.mutation.op} gave back a genuine code`);
    // The base was shown but never sent: once a newer code is approved, sending it is an overtaken code.
    unsent.push(base);
    if (unsent.length > UNSENT_KEPT) unsent.shift();
    mutatedSent.add(code);
    runCodes.push(code);
    return { code, genuine: false };
  }
  if (slot.kind === 'text') return { code: slot.text, genuine: genuine.has(sha256(slot.text)) };
  return materialize({ kind: 'mutated', mutation: { op: 'bit', at: 150, bit: 0 } });
}

// ——— bodies ———

const weirdNumber = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    -0,
    0.5,
    1.5,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    1e21,
    1e308,
    -1e308,
    5e-324,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
);
const notANumber = fc.oneof(
  fc.constantFrom('500', '', null, true, false, [], {}, [500], { amount: 500 }),
  fc.string({ maxLength: 10 }),
);
const amountArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 3_000 }) },
  { weight: 3, arbitrary: weirdNumber },
  { weight: 2, arbitrary: notANumber },
);
/** Number literals JSON.stringify cannot write: past double precision, overflowing, odd exponents. */
const amountLiteralArb = fc.constantFrom(
  '123456789012345678901234567890',
  '1e400',
  '-1e400',
  '1E3',
  '1e-400',
  '500.0',
  '5e2',
  '-0',
  '0.0000001',
  '9007199254740993',
);
const currencyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('JPY') },
  { weight: 2, arbitrary: fc.constantFrom('jpy', 'USD', '', 'JPYY', 'JP', 'ＪＰＹ', 1, null, ['JPY']) },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);
const orderRefArb = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,20}$/) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 70 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(65), 'x'.repeat(5_000), 42, null, {}) },
);
const basketLineArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ category: fc.constantFrom('food', 'tobacco', 'gift_card'), amount: amountArb }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 1,
    arbitrary: fc.record({ category: fc.string(), amount: amountArb, extra: fc.jsonValue({ maxDepth: 1 }) }),
  },
);
const basketArb = fc.oneof(
  fc.array(basketLineArb, { maxLength: 4 }),
  fc.constantFrom(null, 'food', {}, 3),
  fc
    .integer({ min: 201, max: 260 })
    .map((n) => Array.from({ length: n }, () => ({ category: 'food', amount: 1 }))),
);
const extrasArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { laneId: 'lane-2' },
      { registerId: 'register-2' },
      { state: 'approved' },
      { decision: { approved: true } },
      JSON.parse('{"__proto__": {"approved": true}}') as Record<string, unknown>,
      { constructor: { prototype: { approved: true } } },
      { mode: 'offline' },
      { accountId: '0011223344556677' },
    ),
  },
);

interface FieldsBody {
  kind: 'fields';
  drop: readonly ('amount' | 'currency' | 'orderRef')[];
  amount: unknown;
  amountLiteral: string | null;
  currency: unknown;
  orderRef: unknown;
  basket: unknown;
  payCode: CodeSlot | null;
  payCodeType: 'string' | 'number' | 'array' | 'object' | 'null';
  extras: Record<string, unknown>;
}

type RawBody =
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'truncated'; at: number; base: FieldsBody }
  | { kind: 'invalidUtf8'; at: number; bytes: readonly number[]; base: FieldsBody }
  | { kind: 'deep'; depth: number; open: string }
  | { kind: 'huge'; bytes: number }
  | { kind: 'empty' };

type BodySpec = FieldsBody | RawBody | { kind: 'none' };

const fieldsBodyArb: fc.Arbitrary<FieldsBody> = fc.record({
  kind: fc.constant('fields' as const),
  drop: fc.oneof(
    { weight: 8, arbitrary: fc.constant([]) },
    {
      weight: 1,
      arbitrary: fc.subarray(['amount', 'currency', 'orderRef'] as ('amount' | 'currency' | 'orderRef')[]),
    },
  ),
  amount: amountArb,
  amountLiteral: fc.option(amountLiteralArb, { freq: 8 }),
  currency: currencyArb,
  orderRef: orderRefArb,
  basket: fc.option(basketArb, { freq: 4 }),
  payCode: fc.option(codeSlotArb, { freq: 6 }),
  payCodeType: fc.oneof(
    { weight: 12, arbitrary: fc.constant('string' as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('number' as const, 'array' as const, 'object' as const, 'null' as const),
    },
  ),
  extras: extrasArb,
});

const rawBodyArb: fc.Arbitrary<RawBody> = fc.oneof(
  fc.record({
    kind: fc.constant('text' as const),
    text: fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        'null',
        '[]',
        '{}',
        '"x"',
        '1',
        'true',
        '{"amount":}',
        '{,}',
        '{"amount":500,"amount":"x","currency":"JPY","orderRef":"a"}',
        "{'amount':500}",
        '{"amount":500,"currency":"JPY","orderRef":"a",}',
        '\ufeff{"amount":500,"currency":"JPY","orderRef":"a"}',
        '{"amount":500,"currency":"JPY","orderRef":"a"} trailing',
        '{"amount":NaN}',
        '{"amount":Infinity}',
        '{"amount":0x10}',
        '{"orderRef":"\\ud800","amount":5,"currency":"JPY"}',
        'amount=500&currency=JPY&orderRef=a',
      ),
    ),
  }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant('truncated' as const), at: fc.nat(), base: fieldsBodyArb }),
  fc.record({
    kind: fc.constant('invalidUtf8' as const),
    at: fc.nat(),
    bytes: fc.constantFrom(
      [0xff],
      [0xc3, 0x28],
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0x00],
    ),
    base: fieldsBodyArb,
  }),
  fc.record({
    kind: fc.constant('deep' as const),
    depth: fc.oneof(fc.integer({ min: 50, max: 2_000 }), fc.integer({ min: 5_000, max: 20_000 })),
    open: fc.constantFrom('[', '{"a":', '{"amount":', '[{"x":'),
  }),
  fc.record({
    kind: fc.constant('huge' as const),
    bytes: fc.integer({ min: BODY_LIMIT_BYTES - 64, max: 200_000 }),
  }),
  fc.constant({ kind: 'empty' as const }),
);

const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 10, arbitrary: fieldsBodyArb },
  { weight: 4, arbitrary: rawBodyArb },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

function fieldsText(body: FieldsBody, payCode: string | undefined): string {
  const fields: Record<string, unknown> = { ...body.extras };
  if (!body.drop.includes('amount')) fields.amount = body.amountLiteral === null ? body.amount : '@@AMOUNT@@';
  if (!body.drop.includes('currency')) fields.currency = body.currency;
  if (!body.drop.includes('orderRef')) fields.orderRef = body.orderRef;
  if (body.basket !== null) fields.basket = body.basket;
  if (payCode !== undefined) fields.payCode = shaped(payCode, body.payCodeType);
  const text = JSON.stringify(fields);
  return body.amountLiteral === null ? text : text.replace('"@@AMOUNT@@"', body.amountLiteral);
}

function shaped(payCode: string, type: FieldsBody['payCodeType']): unknown {
  if (type === 'number') return Number(payCode.replace(/\D/g, '').slice(0, 15) || '0');
  if (type === 'array') return [payCode];
  if (type === 'object') return { text: payCode };
  if (type === 'null') return null;
  return payCode;
}

/** The bytes of a body, and the pay code it carries as such (undefined when there is none or it is not a string). */
function bodyBytes(spec: BodySpec): { bytes: Buffer | undefined; code?: { code: string; genuine: boolean } } {
  switch (spec.kind) {
    case 'none':
      return { bytes: undefined };
    case 'empty':
      return { bytes: Buffer.alloc(0) };
    case 'fields': {
      const code = spec.payCode === null ? undefined : materialize(spec.payCode);
      const text = fieldsText(spec, code?.code);
      return spec.payCodeType === 'string' && code !== undefined
        ? { bytes: Buffer.from(text), code }
        : { bytes: Buffer.from(text) };
    }
    case 'text':
      return { bytes: Buffer.from(spec.text) };
    case 'bytes':
      return { bytes: Buffer.from(spec.bytes) };
    case 'truncated': {
      const code = spec.base.payCode === null ? undefined : materialize(spec.base.payCode);
      const text = Buffer.from(fieldsText(spec.base, code?.code));
      return { bytes: text.subarray(0, spec.at % text.length) };
    }
    case 'invalidUtf8': {
      const code = spec.base.payCode === null ? undefined : materialize(spec.base.payCode);
      const text = Buffer.from(fieldsText(spec.base, code?.code));
      const at = spec.at % (text.length + 1);
      return { bytes: Buffer.concat([text.subarray(0, at), Buffer.from(spec.bytes), text.subarray(at)]) };
    }
    case 'deep': {
      const close = spec.open === '[' ? ']' : spec.open === '[{"x":' ? '}]' : '}';
      return { bytes: Buffer.from(`${spec.open.repeat(spec.depth)}1${close.repeat(spec.depth)}`) };
    }
    case 'huge':
      return {
        bytes: Buffer.from(
          JSON.stringify({ amount: 500, currency: 'JPY', orderRef: 'huge', pad: 'x'.repeat(spec.bytes) }),
        ),
      };
  }
}

// ——— headers, paths, queries ———

type AuthSpec =
  | { kind: 'register'; register: 0 | 1 }
  | { kind: 'none' }
  | { kind: 'variant'; register: 0 | 1; variant: number }
  | { kind: 'text'; text: string };

const AUTH_VARIANTS: ((key: string) => string)[] = [
  (key) => `Bearer ${key} `,
  (key) => `bearer ${key}`,
  (key) => `Bearer  ${key}`,
  (key) => `Bearer\t${key}`,
  (key) => key,
  (key) => `Bearer ${key.toUpperCase()}`,
  (key) => `Bearer ${key.slice(0, -1)}`,
  (key) => `Bearer ${key}x`,
  (key) => `Bearer ${key},Bearer ${key}`,
  (key) => `Basic ${Buffer.from(`register:${key}`).toString('base64')}`,
  (key) => `Bearer ${key}\u00e9`,
  (key) => `Bearer ${'k'.repeat(600)}${key}`,
  (key) => `Token ${key}`,
];

const latin1Text = (maxLength: number) =>
  fc
    .string({
      unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x20 : c)),
      maxLength,
    })
    .map((s) => s.trim());

const authArb: fc.Arbitrary<AuthSpec> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('register' as const),
      register: fc.constantFrom(0 as const, 1 as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('variant' as const),
      register: fc.constantFrom(0 as const, 1 as const),
      variant: fc.nat(AUTH_VARIANTS.length - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.oneof(
        latin1Text(40),
        fc.constantFrom('', 'Bearer', 'Bearer ', 'Bearer rk_', `Bearer ${'a'.repeat(513)}`),
      ),
    }),
  },
);

const idempotencyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.stringMatching(/^[!-~]{1,24}$/) },
  { weight: 1, arbitrary: fc.constantFrom('fuzz-1', 'fuzz-2') },
  {
    weight: 1,
    arbitrary: fc.oneof(latin1Text(30), fc.constantFrom('', 'a b', 'x'.repeat(256), 'é', '\t', 'k\u00ff')),
  },
);

const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/JSON',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '*/*',
  'application/json; charset',
  '',
];
const contentTypeArb = fc.option(fc.constantFrom(...CONTENT_TYPES), { freq: 10 });
const contentEncodingArb = fc.option(
  fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-fuzz'),
  {
    freq: 12,
  },
);

type IdSlot =
  | { kind: 'known'; pick: number }
  | { kind: 'text'; text: string }
  | { kind: 'payCode' }
  | { kind: 'registerKey' }
  | { kind: 'raw'; raw: string };

const idSlotArb: fc.Arbitrary<IdSlot> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('known' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.string({ unit: 'binary', maxLength: 40 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'payCode' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'registerKey' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      raw: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%C0%AF',
        '..%2F..%2Fhealthz',
        '%00',
        '%FF%FE',
        'a'.repeat(4_000),
        '',
        '.',
        '..',
      ),
    }),
  },
);

const WAIT_VALUES = [
  '0',
  '1',
  '250',
  '30000',
  '30001',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  'NaN',
  'Infinity',
  '',
  'abc',
  '%',
  '%zz',
  '%EF%BC%91',
];
const queryArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 4, arbitrary: fc.constantFrom(...WAIT_VALUES).map((v) => `?waitMs=${v}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '?waitMs=1&waitMs=2',
      '?waitMs[]=5',
      '?waitMs[a]=5',
      '?foo=1',
      '?waitMs=5&foo=1',
      '?',
      '??waitMs=5',
      '?waitMs',
      '?&&&',
      '?waitMs=5#frag',
      `?waitMs=${'9'.repeat(400)}`,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `?waitMs=${encodeURIComponent(s)}`),
  },
);

const ODD_PATHS = [
  '/',
  '/login',
  '/lane',
  '/favicon.ico',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  '/v1',
  '/v1/',
  '/v1/payments/',
  '/V1/PAYMENTS',
  '/v1//payments',
  '/v1/payments//cancel',
  '/v1/status/',
  '/v1/../healthz',
  '/v1/%2e%2e/healthz',
  '/v2/payments',
  '/dashboard/panels',
  '//v1/payments',
  '/v1/payments;x',
  '/v1/payments%2f',
  '/v1/payments\u00e9',
  '/v1/refunds',
  `/${'a'.repeat(6_000)}`,
  '*',
];

type Target =
  | { kind: 'create' }
  | { kind: 'get'; id: IdSlot; query: string }
  | { kind: 'cancel'; id: IdSlot }
  | { kind: 'refund'; id: IdSlot }
  | { kind: 'status'; query: string }
  | { kind: 'odd'; path: string; query: string };

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'create' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), id: idSlotArb, query: queryArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), id: idSlotArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refund' as const), id: idSlotArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('status' as const), query: queryArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('odd' as const),
      path: fc.constantFrom(...ODD_PATHS),
      query: queryArb,
    }),
  },
);

interface Input {
  target: Target;
  method: string | null;
  body: BodySpec;
  refundAmount: unknown;
  auth: AuthSpec;
  idempotencyKey: string | undefined;
  contentType: string | null;
  contentEncoding: string | null;
}

const fuzzedInputArb: fc.Arbitrary<Input> = fc.record({
  target: targetArb,
  method: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'), { freq: 6 }),
  body: bodyArb,
  refundAmount: amountArb,
  auth: authArb,
  idempotencyKey: idempotencyArb,
  contentType: contentTypeArb,
  contentEncoding: contentEncodingArb,
});

/** A register's honest request to pay, with a pay code that is genuine, replayed, overtaken, mutated or made up. */
const codeAttackArb: fc.Arbitrary<Input> = fc
  .record({
    payCode: codeSlotArb,
    amount: fc.integer({ min: 1, max: 3_000 }),
    register: fc.constantFrom(0 as const, 1 as const),
    idempotencyKey: fc.option(fc.stringMatching(/^[!-~]{8,24}$/), { freq: 3, nil: undefined }),
  })
  .map(({ payCode, amount, register, idempotencyKey }) => ({
    target: { kind: 'create' },
    method: null,
    body: {
      kind: 'fields',
      drop: [],
      amount,
      amountLiteral: null,
      currency: 'JPY',
      orderRef: `fuzz-${amount}`,
      basket: null,
      payCode,
      payCodeType: 'string',
      extras: {},
    },
    refundAmount: 1,
    auth: { kind: 'register', register },
    idempotencyKey,
    contentType: null,
    contentEncoding: null,
  }));

const inputArb = fc.oneof({ weight: 3, arbitrary: codeAttackArb }, { weight: 7, arbitrary: fuzzedInputArb });

function idText(slot: IdSlot): string {
  if (slot.kind === 'known')
    return paymentIds.length === 0 ? 'none-yet' : paymentIds[slot.pick % paymentIds.length]!;
  if (slot.kind === 'text') return encodeURIComponent(slot.text);
  if (slot.kind === 'payCode') return encodeURIComponent(mint());
  if (slot.kind === 'registerKey') return encodeURIComponent(stack.registers[0]!.key);
  return slot.raw;
}

function pathOf(target: Target): { method: string; path: string } {
  switch (target.kind) {
    case 'create':
      return { method: 'POST', path: '/v1/payments' };
    case 'get':
      return { method: 'GET', path: `/v1/payments/${idText(target.id)}${target.query}` };
    case 'cancel':
      return { method: 'POST', path: `/v1/payments/${idText(target.id)}/cancel` };
    case 'refund':
      return { method: 'POST', path: `/v1/payments/${idText(target.id)}/refunds` };
    case 'status':
      return { method: 'GET', path: `/v1/status${target.query}` };
    case 'odd':
      return { method: 'GET', path: `${target.path}${target.query}` };
  }
}

function authHeader(auth: AuthSpec): string | undefined {
  if (auth.kind === 'none') return undefined;
  if (auth.kind === 'text') return auth.text;
  const key = stack.registers[auth.register]!.key;
  return auth.kind === 'register' ? `Bearer ${key}` : AUTH_VARIANTS[auth.variant]!(key);
}

/** A key the gateway must take: exactly `Bearer <key>` of a register, once HTTP has trimmed the value. */
function keyIsValid(header: string | undefined): boolean {
  const value = header?.replace(/^[ \t]+|[ \t]+$/g, '');
  return stack.registers.some((r) => value === `Bearer ${r.key}`);
}

// ——— the checks ———

/** The keys no answer and no log line may ever carry. */
const keys = (): string[] => [...stack.registers.map((r) => r.key), stack.storeKey, stack.wallet.adminKey];

/** 64-character runs of a code (of its Base45 part when it has the prefix): one left whole betrays the code. */
function runsOf(code: string): string[] {
  const text = code.startsWith('PC1:') ? code.slice(4) : code;
  return [0, 64, 128, 192, text.length - 64]
    .filter((at) => at >= 0 && at + 64 <= text.length)
    .map((at) => text.slice(at, at + 64));
}

/** What the running input's answer and log lines must not carry: the keys and every code it showed or sent. */
const secrets = (): string[] => [...keys(), ...runCodes.flatMap(runsOf)];

function logged5xxReason(fromLine: number): string | undefined {
  for (const line of stack.logs.slice(fromLine)) {
    const entry = JSON.parse(line) as Json;
    if (entry.level >= 50) return `${entry.msg}: ${entry.err?.message ?? entry.err?.type ?? ''}`.trim();
  }
  return undefined;
}

function checkReply(reply: RawReply, method: string, path: string, fromLine: number, where: string): void {
  if (reply.status >= 500) {
    figures.status5xx += 1;
    const reason = logged5xxReason(fromLine);
    reasons5xx.push(`${reply.status} ${reason}`);
    expect(reason, `${where}: ${reply.status} without a logged reason: ${reply.text}`).toBeDefined();
    // A 503 (overloaded, shutting down, wallet or storage unavailable) is a state; a 500 is a fault found by input.
    expect(reply.status, `${where}: an internal error: ${reason}`).not.toBe(500);
  } else if (reply.status >= 400) {
    figures.status4xx += 1;
  }
  if (reply.status >= 400 && method !== 'HEAD') checkErrorBody(reply, path, where);
  const seen = `${JSON.stringify(reply.headers)}\n${reply.text}`;
  expect(leakedSecret(seen, secrets()), `${where}: the answer carries a secret`).toBeUndefined();
}

/** Dashboard pages a browser opens answer their refusals as pages; everything else as `{error: {code, message}}`. */
const BROWSER_PAGES = new Set(['/', '/login', '/lane']);

/** Node's HTTP parser refused bytes that are not HTTP (a raw non-ASCII path): the app never saw the request. */
const parserRefused = (reply: RawReply): boolean =>
  reply.status === 400 && reply.headers['content-type'] === undefined && reply.text === '';

function checkErrorBody(reply: RawReply, path: string, where: string): void {
  if (parserRefused(reply)) {
    expect(reply.headers.connection, where).toBe('close');
    figures.parserRefusals += 1;
    return;
  }
  if (String(reply.headers['content-type']).startsWith('text/html')) {
    expect(
      BROWSER_PAGES.has(path.split('?')[0]!),
      `${where}: an HTML refusal outside the dashboard pages`,
    ).toBe(true);
    return;
  }
  const body = parsedOrText(reply.text);
  expect(Object.keys(body), where).toEqual(['error']);
  expect(body.error, where).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  expect(ERROR_STATUS[body.error.code as keyof typeof ERROR_STATUS], where).toBe(reply.status);
}

function parsedOrText(text: string): Json {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface PaymentRow {
  rowid: number;
  state: string;
  approved: number | null;
  code_hash: string | null;
  device_id: string | null;
  counter: number | null;
}

/** What checkApprovals has seen so far: it reads each payment once, after its decision. */
const approvalsSeen = { rowid: 0, hashes: new Set<string>(), lastCounter: new Map<string, number>() };

/** Every approval came from a genuine code that was sent as such, approved once, in counter order per device. */
function checkApprovals(): void {
  const rows = stack.gateway.db
    .prepare(
      'SELECT rowid, state, approved, code_hash, device_id, counter FROM payments WHERE rowid > ? ORDER BY rowid',
    )
    .all(approvalsSeen.rowid) as PaymentRow[];
  for (const row of rows) {
    if (row.state === 'awaiting_scan' || row.state === 'authorizing') break;
    approvalsSeen.rowid = row.rowid;
    if (row.approved !== 1) continue;
    figures.approvals += 1;
    const { hashes, lastCounter } = approvalsSeen;
    const fromSentCode =
      row.code_hash !== null && sentHashes.has(row.code_hash) && !hashes.has(row.code_hash);
    const inOrder = row.device_id === null || (lastCounter.get(row.device_id) ?? -1) < (row.counter ?? -1);
    if (!fromSentCode || !inOrder) figures.approvalsWithoutValidCode += 1;
    if (row.code_hash !== null) hashes.add(row.code_hash);
    if (row.device_id !== null) lastCounter.set(row.device_id, row.counter ?? -1);
  }
  expect(figures.approvalsWithoutValidCode, 'approvals without a genuine, unused code').toBe(0);
}

const countPayments = (): number =>
  (stack.gateway.db.prepare('SELECT count(*) AS n FROM payments').get() as { n: number }).n;

/** Payments left waiting for a scan would keep the lane busy for the next input: cancel them. */
async function cancelWaiting(): Promise<void> {
  const waiting = stack.gateway.db
    .prepare("SELECT id, lane_id FROM payments WHERE state = 'awaiting_scan'")
    .all() as { id: string; lane_id: string }[];
  for (const row of waiting) {
    const register = stack.registers.findIndex((r) => r.laneId === row.lane_id);
    const cancelled = await stack.api(register, 'POST', `/v1/payments/${row.id}/cancel`);
    expect(cancelled.status).toBe(200);
  }
}

async function runInput(input: Input): Promise<void> {
  figures.inputs += 1;
  runCodes = [];
  const { method: defaultMethod, path } = pathOf(input.target);
  const method = input.method ?? defaultMethod;
  const refund = input.target.kind === 'refund' && input.body.kind === 'fields';
  const body = refund
    ? { bytes: Buffer.from(JSON.stringify({ amount: input.refundAmount })) }
    : bodyBytes(input.body);
  const headers: Record<string, string> = {};
  const auth = authHeader(input.auth);
  if (auth !== undefined) headers.authorization = auth;
  if (input.idempotencyKey !== undefined) headers['idempotency-key'] = input.idempotencyKey;
  if (body.bytes !== undefined && input.contentType !== '')
    headers['content-type'] = input.contentType ?? 'application/json';
  if (input.contentEncoding !== null) headers['content-encoding'] = input.contentEncoding;
  const where = `seed=${settings.seed} ${method} ${path.slice(0, 120)}`;
  const before = countPayments();
  const fromLine = stack.logs.length;
  const reply = await rawRequest(stack.gateway.url, {
    method,
    path,
    headers,
    body: body.bytes,
    timeoutMs: 10_000,
  }).catch((error: Error) => {
    throw new Error(`${where}: no answer: ${error.message}`, { cause: error });
  });
  checkReply(reply, method, path, fromLine, where);
  const validKey = keyIsValid(auth);
  if (!validKey) {
    expect(countPayments(), `${where}: a request without a valid key created a payment`).toBe(before);
    if (/^\/v1(\/|$|\?)/i.test(path) && !parserRefused(reply)) expect(reply.status, where).toBe(401);
  }
  if (reply.status === 201 && method === 'POST' && input.target.kind === 'create') {
    const payment = JSON.parse(reply.text) as Json;
    paymentIds.push(payment.id);
    if (payment.state === 'approved' && body.code !== undefined)
      expect(body.code.genuine, `${where}: approved a code the phone did not make`).toBe(true);
  }
  checkApprovals();
  await cancelWaiting();
  const leaks = stack.logs.slice(fromLine).filter((line) => leakedSecret(line, secrets()) !== undefined);
  expect(
    leaks.map((line) => line.slice(0, 300)),
    `${where}: log lines carrying a secret`,
  ).toEqual([]);
}

describe('the register API under random and adversarial input', () => {
  it(
    `holds for ${RUNS} inputs (seed ${settings.seed}), and takes a normal payment afterwards`,
    async () => {
      await fc.assert(fc.asyncProperty(inputArb, runInput), {
        numRuns: RUNS,
        seed: settings.seed,
        endOnFailure: true,
      });

      const code = mint();
      sentHashes.add(sha256(code));
      const normal = await stack.api(0, 'POST', '/v1/payments', {
        body: { amount: 1_200, currency: 'JPY', orderRef: 'after-fuzz', payCode: code },
      });
      expect(normal.status, JSON.stringify(normal.body)).toBe(201);
      expect(normal.body).toMatchObject({ state: 'approved', amount: 1_200 });
      checkApprovals();
      expect((await stack.api(0, 'GET', '/v1/status')).body.accepting).toBe(true);
      const leaks = stack.logs.filter((line) => leakedSecret(line, keys()) !== undefined);
      expect(
        leaks.map((line) => line.slice(0, 300)),
        'log lines carrying a key',
      ).toEqual([]);
      expect(watch.seen, 'unhandled rejections or uncaught exceptions').toEqual([]);
      // The fuzz has teeth: genuine codes were approved, almost-valid ones were tried, and refusals were seen.
      expect(figures.approvals).toBeGreaterThan(0);
      expect(mutatedSent.size).toBeGreaterThan(0);
      expect(figures.status4xx).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );
});
