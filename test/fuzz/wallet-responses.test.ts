// Fuzz of what the gateway believes from upstream: its wallet client (gateway/wallet-client/http-wallet-client.ts),
// the online authorizer on top of it, the ledger uploader and the risk-feed follower (sync/) facing a fake wallet on
// 127.0.0.1 that answers with random garbage — wrong shapes and types, truncated or lying HTTP framing, huge bodies,
// wrong statuses, answers for another id, missing and extra fields, invalid UTF-8, hangs and resets. Each answer is
// judged by an oracle written here from CONTRACT §3 on the bytes the client actually received. What must hold: no
// crash and no unhandled rejection; a WalletCallError (or "unknown") instead of a guess; an approval only from a
// valid approval for that very id; no outbox row marked from a malformed batch answer; no risk-feed event applied
// from a malformed page. Fast inside `npm test`; TILLGATE_CHAOS=long runs far more answers.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../gateway/db/open.js';
import type { LedgerEntry } from '../../gateway/ledger/chain.js';
import { Ledger } from '../../gateway/ledger/ledger.js';
import { createLogger } from '../../gateway/log.js';
import { authorizeOnline } from '../../gateway/payments/online-authorizer.js';
import { HttpWalletClient } from '../../gateway/wallet-client/http-wallet-client.js';
import { WalletCallError } from '../../gateway/wallet-client/wallet-client.js';
import { getMeta, META_KEYS } from '../../sync/meta.js';
import { RiskFeedError, RiskFeedFollower } from '../../sync/risk-feed.js';
import { LedgerUploader } from '../../sync/uploader.js';
import { chaosCount, chaosReport, chaosSettings } from '../support/chaos.js';
import type { Json } from '../support/stack.js';
import { CrashWatch } from './support.js';

const settings = chaosSettings();
const RUNS = chaosCount(settings, 100, 3_000);
/** Per test: a run takes milliseconds, a hung answer up to HANG_TIMEOUT_MS, a deadline-bound authorizer run 300 ms. */
const TEST_TIMEOUT_MS = 30_000 + RUNS * 300;
const STORE_ID = 'store-fuzz';
/** The client's own bounds (http-wallet-client.ts), which the oracle applies too: larger answers are refused. */
const RESPONSE_BYTES_MAX = 4 * 1024 * 1024;
const FEED_EVENTS_PER_PAGE_MAX = 20;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX64 = /^[0-9a-f]{64}$/;

const watch = new CrashWatch();
const figures = {
  answers: 0,
  rejected: 0,
  approvals: 0,
  approvalsWithoutValidAnswer: 0,
  batchesMarked: 0,
  pagesApplied: 0,
};
const failures = new Map<string, number>();

// ——— the fake wallet: raw HTTP on 127.0.0.1, any bytes at all ———

interface SeenRequest {
  method: string;
  path: string;
  body: Json;
}

type Framing = 'length' | 'close' | 'chunked' | 'lieLonger' | 'lieShorter' | 'cut';

type Answer =
  | { kind: 'http'; status: number; contentType: string | null; body: Buffer; framing: Framing; lie: number }
  | { kind: 'raw'; bytes: Buffer }
  | { kind: 'hang' }
  | { kind: 'close' };

class FakeWallet {
  readonly server: Server;
  /** Every request with the answer it got and when (unix ms). */
  readonly served: { request: SeenRequest; answer: Answer; at: number }[] = [];
  answer: (request: SeenRequest, index: number) => Answer = () => ({ kind: 'close' });
  readonly #sockets = new Set<Socket>();

  private constructor() {
    this.server = createServer((socket) => this.#accept(socket));
  }

  static async start(): Promise<FakeWallet> {
    const fake = new FakeWallet();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const request = parseRequest(buffered);
      if (request === undefined) return;
      socket.off('data', onData);
      const answer = this.answer(request, this.served.length);
      this.served.push({ request, answer, at: Date.now() });
      writeAnswer(socket, answer);
    };
    socket.on('data', onData);
  }
}

function parseRequest(bytes: Buffer): SeenRequest | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const [method, path] = head[0]!.split(' ');
  const lengthLine = head.find((line) => /^content-length:/i.test(line));
  const length = lengthLine === undefined ? 0 : Number(lengthLine.split(':')[1]);
  if (bytes.length < end + 4 + length) return undefined;
  const text = bytes.subarray(end + 4, end + 4 + length).toString('utf8');
  return { method: method!, path: path!, body: text.length > 0 ? JSON.parse(text) : undefined };
}

function writeAnswer(socket: Socket, answer: Answer): void {
  if (answer.kind === 'hang') return;
  if (answer.kind === 'close') {
    socket.destroy();
    return;
  }
  if (answer.kind === 'raw') {
    socket.end(answer.bytes);
    return;
  }
  const head = [`HTTP/1.1 ${answer.status} Fuzz`, 'connection: close'];
  if (answer.contentType !== null) head.push(`content-type: ${answer.contentType}`);
  const body = answer.body;
  if (answer.framing === 'chunked') {
    head.push('transfer-encoding: chunked');
    const chunks =
      body.length === 0 ? [] : [body.subarray(0, body.length >> 1), body.subarray(body.length >> 1)];
    const framed = chunks
      .filter((c) => c.length > 0)
      .flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]);
    socket.end(
      Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), ...framed, Buffer.from('0\r\n\r\n')]),
    );
    return;
  }
  const declared = {
    length: body.length,
    close: null,
    lieLonger: body.length + 1 + answer.lie,
    lieShorter: 0,
    cut: body.length,
  }[answer.framing];
  const shorter = Math.max(0, body.length - 1 - (answer.lie % Math.max(1, body.length)));
  if (answer.framing === 'lieShorter') head.push(`content-length: ${shorter}`);
  else if (declared !== null) head.push(`content-length: ${declared}`);
  const sent = answer.framing === 'cut' ? body.subarray(0, answer.lie % Math.max(1, body.length)) : body;
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), sent]));
}

/** The body the client received whole, or undefined when the framing lets no whole answer through. */
function delivered(answer: Answer): { status: number; text: string } | undefined {
  if (answer.kind !== 'http') return undefined;
  if (answer.status < 200 || answer.status > 599) return undefined;
  if (answer.framing === 'lieLonger') return undefined;
  // A cut body is whole only when there was nothing to cut.
  if (answer.framing === 'cut' && answer.body.length > 0) return undefined;
  const body =
    answer.framing === 'lieShorter'
      ? answer.body.subarray(
          0,
          Math.max(0, answer.body.length - 1 - (answer.lie % Math.max(1, answer.body.length))),
        )
      : answer.body;
  if (body.length > RESPONSE_BYTES_MAX) return undefined;
  return { status: answer.status, text: body.toString('utf8') };
}

function jsonOf(text: string): { ok: true; value: Json } | { ok: false } {
  try {
    return { ok: true, value: text.length === 0 ? undefined : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A 2xx answer received whole whose body is JSON: its value, else undefined. */
function okJson(answer: Answer): { value: Json } | undefined {
  const got = delivered(answer);
  if (got === undefined || got.status < 200 || got.status > 299) return undefined;
  const json = jsonOf(got.text);
  return json.ok ? { value: json.value } : undefined;
}

// ——— answers: the pieces the fuzz builds bodies from ———

const STATUSES_OK = [200, 200, 200, 201, 202, 299];
const STATUSES_OTHER = [
  199, 301, 302, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 418, 600,
];
const statusArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...STATUSES_OK) },
  { weight: 2, arbitrary: fc.constantFrom(...STATUSES_OTHER) },
);
const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('length' as const, 'close' as const, 'chunked' as const) },
  { weight: 2, arbitrary: fc.constantFrom('lieLonger' as const, 'lieShorter' as const, 'cut' as const) },
);
const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, 'text/html', 'application/json; charset=latin1', 'text/plain'),
  },
);

/** How a body is spoiled on its way out, if it is: cut short, padded huge, broken UTF-8, wrapped, text appended. */
type Spoil =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'huge'; declared: boolean }
  | { kind: 'invalidUtf8'; at: number; bytes: readonly number[] }
  | { kind: 'wrap'; how: 'array' | 'data' | 'string' }
  | { kind: 'trailing'; text: string };

const spoilArb: fc.Arbitrary<Spoil> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), declared: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('invalidUtf8' as const),
      at: fc.nat(),
      bytes: fc.constantFrom([0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80]),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('wrap' as const),
      how: fc.constantFrom('array' as const, 'data' as const, 'string' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('trailing' as const),
      text: fc.constantFrom(' x', '}', ',{}', '\n{"id":1}'),
    }),
  },
);

function spoiled(value: unknown, spoil: Spoil): Buffer {
  if (spoil.kind === 'wrap') {
    const wrapped =
      spoil.how === 'array' ? [value] : spoil.how === 'data' ? { data: value } : JSON.stringify(value);
    return Buffer.from(JSON.stringify(wrapped));
  }
  const text = Buffer.from(JSON.stringify(value) ?? '');
  if (spoil.kind === 'truncate') return text.subarray(0, spoil.at % Math.max(1, text.length));
  if (spoil.kind === 'huge') {
    // Valid JSON, padded past the bound: whitespace before the value.
    return Buffer.concat([Buffer.alloc(RESPONSE_BYTES_MAX + 1, 0x20), text]);
  }
  if (spoil.kind === 'invalidUtf8') {
    const at = spoil.at % (text.length + 1);
    return Buffer.concat([text.subarray(0, at), Buffer.from(spoil.bytes), text.subarray(at)]);
  }
  if (spoil.kind === 'trailing') return Buffer.concat([text, Buffer.from(spoil.text)]);
  return text;
}

/** An HTTP envelope around a body: its status, framing and content type, or something that is not HTTP at all. */
interface Envelope {
  kind: 'http' | 'raw' | 'hang' | 'close';
  status: number;
  framing: Framing;
  contentType: string | null;
  lie: number;
  raw: Uint8Array;
}

const envelopeArb: fc.Arbitrary<Envelope> = fc.record({
  kind: fc.oneof(
    { weight: 30, arbitrary: fc.constant('http' as const) },
    { weight: 1, arbitrary: fc.constantFrom('raw' as const, 'close' as const) },
    { weight: 1, arbitrary: fc.constant('hang' as const) },
  ),
  status: statusArb,
  framing: framingArb,
  contentType: contentTypeArb,
  lie: fc.nat(50),
  raw: fc.oneof(
    fc.uint8Array({ maxLength: 60 }),
    fc
      .constantFrom(
        'HTTP/1.1 abc\r\n\r\n',
        'HTTP/1.1 200\r\ncontent-length: x\r\n\r\n{}',
        'HTTP/9 200 OK\r\n\r\n',
        '\r\n\r\n',
      )
      .map((s) => Buffer.from(s)),
  ),
});

const CLEAN_ENVELOPE: Envelope = {
  kind: 'http',
  status: 200,
  framing: 'length',
  contentType: 'application/json',
  lie: 0,
  raw: new Uint8Array(),
};

/** How a sound answer travels: as sent, no garbage after it, a clean HTTP envelope. */
const AS_SENT = { spoil: { kind: 'none' as const }, garbage: null, envelope: CLEAN_ENVELOPE };

/** One defect for a sound answer: spoiled on its way out. */
const spoiledOnceArb = spoilArb.filter((spoil) => spoil.kind !== 'none').map((spoil) => ({ spoil }));

const CLEAN_ANSWER = {
  kind: 'http',
  status: 200,
  contentType: 'application/json',
  framing: 'length',
  lie: 0,
} as const;

function answerOf(envelope: Envelope, body: Buffer, bodySize?: { declared: boolean }): Answer {
  if (envelope.kind === 'raw') return { kind: 'raw', bytes: Buffer.from(envelope.raw) };
  if (envelope.kind === 'hang' || envelope.kind === 'close') return { kind: envelope.kind };
  const framing = bodySize === undefined ? envelope.framing : bodySize.declared ? 'length' : 'chunked';
  return {
    kind: 'http',
    status: envelope.status,
    contentType: envelope.contentType,
    body,
    framing,
    lie: envelope.lie,
  };
}

/** Garbage that is no answer of any shape: random JSON, text or bytes. */
const garbageArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  fc
    .constantFrom('', '{}', '[]', 'null', '{"error":{"code":"nope"}}', '{"error":"x"}')
    .map((s) => Buffer.from(s)),
);

const extrasArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.jsonValue({ maxDepth: 1 }), {
      maxKeys: 3,
    }),
  },
);

// ——— authorizations ———

const AUTH_STATUSES = ['approved', 'declined', 'pending'] as const;

/** What a wallet may say about authorization `id`, as CONTRACT §3.1 has it: the status, else null. */
function contractAuthorization(answer: Answer, id: string): (typeof AUTH_STATUSES)[number] | null {
  const json = okJson(answer);
  if (json === undefined || !isObject(json.value)) return null;
  const { id: answeredId, status, reason, accountId, deviceId } = json.value;
  if (answeredId !== id || !AUTH_STATUSES.includes(status as never)) return null;
  if (reason !== undefined && typeof reason !== 'string') return null;
  for (const hex of [accountId, deviceId])
    if (hex !== undefined && !(typeof hex === 'string' && HEX16.test(hex))) return null;
  return status as (typeof AUTH_STATUSES)[number];
}

interface AuthorizationRecipe {
  status: unknown;
  id: 'same' | 'other' | 'missing' | 'number' | 'upper' | 'padded';
  accountId: unknown;
  deviceId: unknown;
  reason: unknown;
  extras: Record<string, unknown>;
  spoil: Spoil;
  garbage: Buffer | null;
  envelope: Envelope;
}

const hexIdArb = fc.stringMatching(/^[0-9a-f]{16}$/);
const optionalHexArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: hexIdArb },
  { weight: 1, arbitrary: fc.constantFrom('0011', 'ZZ11223344556677', 12, null, '0011223344556677 ') },
);

const fuzzedAuthorizationArb: fc.Arbitrary<AuthorizationRecipe> = fc.record({
  status: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...AUTH_STATUSES) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('APPROVED', 'approve', 'ok', true, 1, null, undefined, ['approved']),
    },
  ),
  id: fc.oneof(
    { weight: 8, arbitrary: fc.constant('same' as const) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'other' as const,
        'missing' as const,
        'number' as const,
        'upper' as const,
        'padded' as const,
      ),
    },
  ),
  accountId: optionalHexArb,
  deviceId: optionalHexArb,
  reason: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc.constantFrom('insufficient_funds', 'account_frozen', 'code_replayed', 'weird_reason'),
    },
    { weight: 1, arbitrary: fc.constantFrom(7, null, { code: 'x' }) },
  ),
  extras: extrasArb,
  spoil: spoilArb,
  garbage: fc.option(garbageArb, { freq: 6 }),
  envelope: envelopeArb,
});

const hexOrNothing = (value: unknown) => (typeof value === 'string' && HEX16.test(value) ? value : undefined);

/** A well-formed answer as a sound wallet sends it (extra fields allowed), for the id asked or for another one. */
const wellFormed = (id: AuthorizationRecipe['id']) =>
  fuzzedAuthorizationArb.map((recipe) => ({
    ...recipe,
    status: AUTH_STATUSES.includes(recipe.status as never) ? recipe.status : 'approved',
    id,
    accountId: hexOrNothing(recipe.accountId),
    deviceId: hexOrNothing(recipe.deviceId),
    reason: typeof recipe.reason === 'string' ? recipe.reason : undefined,
    ...AS_SENT,
  }));

/** A sound answer for the id with exactly one thing wrong. */
const nearAuthorizationArb: fc.Arbitrary<AuthorizationRecipe> = fc
  .tuple(
    wellFormed('same'),
    fc.oneof(
      fc.constantFrom('APPROVED', 'approve', 'ok', true, null, undefined).map((status) => ({ status })),
      fc.constantFrom('0011', 'ZZ11223344556677', 12, null).map((accountId) => ({ accountId })),
      fc.constantFrom('0011', 'ZZ11223344556677', 12, null).map((deviceId) => ({ deviceId })),
      fc.constantFrom(7, null, { code: 'x' }).map((reason) => ({ reason })),
      spoiledOnceArb,
      fc.constantFrom(...STATUSES_OTHER).map((status) => ({ envelope: { ...CLEAN_ENVELOPE, status } })),
      framingArb.map((framing) => ({ envelope: { ...CLEAN_ENVELOPE, framing, lie: 3 } })),
    ),
  )
  .map(([recipe, defect]) => ({ ...recipe, ...defect }));

const authorizationRecipeArb: fc.Arbitrary<AuthorizationRecipe> = fc.oneof(
  { weight: 2, arbitrary: fuzzedAuthorizationArb },
  { weight: 3, arbitrary: wellFormed('same') },
  { weight: 2, arbitrary: nearAuthorizationArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom('other' as const, 'upper' as const, 'padded' as const).chain(wellFormed),
  },
);

function idAs(mode: AuthorizationRecipe['id'], id: string): unknown {
  if (mode === 'same') return id;
  if (mode === 'other') return `a_${randomUUID()}`;
  if (mode === 'number') return 42;
  if (mode === 'upper') return id.toUpperCase();
  if (mode === 'padded') return ` ${id}`;
  return undefined;
}

function authorizationAnswer(recipe: AuthorizationRecipe, id: string): Answer {
  if (recipe.garbage !== null) return answerOf(recipe.envelope, recipe.garbage);
  const value = {
    ...recipe.extras,
    id: idAs(recipe.id, id),
    status: recipe.status,
    reason: recipe.reason,
    accountId: recipe.accountId,
    deviceId: recipe.deviceId,
  };
  const body = spoiled(value, recipe.spoil);
  return answerOf(recipe.envelope, body, recipe.spoil.kind === 'huge' ? recipe.spoil : undefined);
}

/** The id in a request to the fake wallet: the POST body's, or the one in the path. */
function requestedId(request: SeenRequest): string {
  if (request.method === 'POST') return request.body.id as string;
  return decodeURIComponent(request.path.split('/')[3] ?? '');
}

function countFailure(error: unknown): void {
  figures.rejected += 1;
  const key =
    error instanceof WalletCallError ? error.failure : error instanceof Error ? error.name : String(error);
  failures.set(key, (failures.get(key) ?? 0) + 1);
}

/** A call either resolves or rejects with a WalletCallError of a known kind: never anything else. */
async function settle<T>(call: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(WalletCallError);
    expect(['timeout', 'network', 'http', 'bad_response']).toContain((error as WalletCallError).failure);
    countFailure(error);
    return { ok: false, error };
  }
}

// ——— batches ———

/** CONTRACT §3.2: one result per entry, in order, naming it, settled or rejected; accepted through the last seq. */
function contractBatch(
  answer: Answer,
  entries: readonly LedgerEntry[],
): { entryId: string; status: string; reason?: string }[] | null {
  const json = okJson(answer);
  if (json === undefined || !isObject(json.value)) return null;
  const { acceptedThroughSeq, results } = json.value;
  if (!Number.isSafeInteger(acceptedThroughSeq) || (acceptedThroughSeq as number) < entries.at(-1)!.seq)
    return null;
  if (!Array.isArray(results) || results.length !== entries.length) return null;
  const ok = results.every(
    (r, i) =>
      isObject(r) &&
      r.entryId === entries[i]!.entryId &&
      (r.status === 'settled' || r.status === 'rejected') &&
      (r.reason === undefined || typeof r.reason === 'string'),
  );
  return ok ? (results as { entryId: string; status: string; reason?: string }[]) : null;
}

interface BatchRecipe {
  results: 'each' | 'dropOne' | 'addOne' | 'renameOne' | 'none' | 'notArray';
  statuses: readonly unknown[];
  reasons: readonly unknown[];
  accepted: 'last' | 'beyond' | 'before' | 'string' | 'float' | 'missing' | 'negative';
  chainBroken: boolean;
  extras: Record<string, unknown>;
  spoil: Spoil;
  garbage: Buffer | null;
  envelope: Envelope;
}

const fuzzedBatchArb: fc.Arbitrary<BatchRecipe> = fc.record({
  results: fc.oneof(
    { weight: 8, arbitrary: fc.constant('each' as const) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'dropOne' as const,
        'addOne' as const,
        'renameOne' as const,
        'none' as const,
        'notArray' as const,
      ),
    },
  ),
  statuses: fc.array(
    fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('settled', 'rejected') },
      { weight: 1, arbitrary: fc.constantFrom('SETTLED', 'ok', null, true, undefined) },
    ),
    { minLength: 4, maxLength: 4 },
  ),
  reasons: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.constantFrom('insufficient_funds', 'account_frozen') },
      { weight: 1, arbitrary: fc.constantFrom(3, null, ['x']) },
    ),
    { minLength: 4, maxLength: 4 },
  ),
  accepted: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('last' as const, 'beyond' as const) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'before' as const,
        'string' as const,
        'float' as const,
        'missing' as const,
        'negative' as const,
      ),
    },
  ),
  chainBroken: fc.nat(9).map((n) => n === 0),
  extras: extrasArb,
  spoil: spoilArb,
  garbage: fc.option(garbageArb, { freq: 6 }),
  envelope: envelopeArb,
});

const cleanBatchArb: fc.Arbitrary<BatchRecipe> = fuzzedBatchArb.map((recipe) => ({
  ...recipe,
  results: 'each' as const,
  statuses: recipe.statuses.map((status, i) =>
    status === 'rejected' ? status : ['settled', 'rejected'][i % 2],
  ),
  reasons: recipe.reasons.map((reason) => (typeof reason === 'string' ? reason : undefined)),
  accepted: 'last' as const,
  chainBroken: false,
  ...AS_SENT,
}));

/** A sound answer with exactly one thing wrong: the cases a lax check would let through. */
const nearBatchArb: fc.Arbitrary<BatchRecipe> = fc
  .tuple(
    cleanBatchArb,
    fc.oneof(
      fc
        .constantFrom(...(['dropOne', 'addOne', 'renameOne', 'none', 'notArray'] as const))
        .map((results) => ({ results })),
      fc
        .constantFrom(...(['before', 'string', 'float', 'missing', 'negative'] as const))
        .map((accepted) => ({ accepted })),
      fc
        .constantFrom('SETTLED', 'ok', null, true)
        .map((status) => ({ statuses: [status, status, status, status] })),
      fc.constantFrom(3, null, ['x']).map((reason) => ({
        reasons: [reason, reason, reason, reason],
        statuses: ['rejected', 'rejected', 'rejected', 'rejected'],
      })),
      spoiledOnceArb,
      fc.constantFrom(...STATUSES_OTHER).map((status) => ({ envelope: { ...CLEAN_ENVELOPE, status } })),
    ),
  )
  .map(([recipe, defect]) => ({ ...recipe, ...defect }));

const batchRecipeArb: fc.Arbitrary<BatchRecipe> = fc.oneof(
  { weight: 1, arbitrary: fuzzedBatchArb },
  { weight: 1, arbitrary: cleanBatchArb },
  { weight: 2, arbitrary: nearBatchArb },
);

function batchAnswer(recipe: BatchRecipe, entries: readonly LedgerEntry[]): Answer {
  if (recipe.garbage !== null) return answerOf(recipe.envelope, recipe.garbage);
  if (recipe.chainBroken) {
    const body = Buffer.from(
      JSON.stringify({
        error: { code: 'chain_broken', message: 'x', seq: entries[0]!.seq, problem: 'hash' },
      }),
    );
    return answerOf({ ...recipe.envelope, kind: 'http', status: 409 }, body);
  }
  const last = entries.at(-1)!.seq;
  let results: unknown = entries.map((entry, i) => ({
    entryId: entry.entryId,
    status: recipe.statuses[i % 4],
    reason: recipe.reasons[i % 4],
  }));
  const list = results as Record<string, unknown>[];
  if (recipe.results === 'dropOne') list.pop();
  if (recipe.results === 'addOne') list.push({ ...list[0], entryId: 'entry-extra' });
  if (recipe.results === 'renameOne')
    list[list.length - 1] = { ...list.at(-1), entryId: `${entries.at(-1)!.entryId}x` };
  if (recipe.results === 'none') results = undefined;
  if (recipe.results === 'notArray') results = { ...list };
  const accepted = {
    last,
    beyond: last + 3,
    before: last - 1,
    string: String(last),
    float: last + 0.5,
    missing: undefined,
    negative: -1,
  }[recipe.accepted];
  const body = spoiled({ ...recipe.extras, acceptedThroughSeq: accepted, results }, recipe.spoil);
  return answerOf(recipe.envelope, body, recipe.spoil.kind === 'huge' ? recipe.spoil : undefined);
}

// ——— risk-feed pages ———

type FeedEvent = Record<string, unknown>;

const LIMIT_NAMES = ['perTransactionLimit', 'perDeviceLimit', 'storeLimit'] as const;

/** CONTRACT §3.4 events; unknown types are passed over; a known type with a bad field spoils the page. */
function contractEvent(event: unknown): 'apply' | 'skip' | 'bad' {
  if (!isObject(event) || typeof event.type !== 'string' || event.type.length > 64) return 'bad';
  const createdAt = event.createdAt;
  const createdOk =
    createdAt === undefined || (Number.isSafeInteger(createdAt) && (createdAt as number) >= 0);
  const hex16 = (v: unknown) => typeof v === 'string' && HEX16.test(v);
  const kid = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
  const money = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
  const checks: Record<string, () => boolean> = {
    account_frozen: () => hex16(event.accountId),
    account_unfrozen: () => hex16(event.accountId),
    device_revoked: () => hex16(event.deviceId),
    issuer_key_added: () =>
      kid(event.kid) && typeof event.publicKey === 'string' && HEX64.test(event.publicKey),
    issuer_key_revoked: () => kid(event.kid),
    limits_changed: () =>
      LIMIT_NAMES.every((name) => money(event[name])) &&
      (event.consecutiveMax === undefined ||
        (Number.isInteger(event.consecutiveMax) &&
          (event.consecutiveMax as number) >= 1 &&
          (event.consecutiveMax as number) <= 1000)),
  };
  const check = checks[event.type];
  if (check === undefined) return 'skip';
  return check() && createdOk ? 'apply' : 'bad';
}

function contractPage(answer: Answer): { cursor: string; events: FeedEvent[] } | null {
  const json = okJson(answer);
  if (json === undefined || !isObject(json.value)) return null;
  const { cursor, events } = json.value;
  if (typeof cursor !== 'string' || cursor.length > 64 || !Array.isArray(events)) return null;
  if (events.length > FEED_EVENTS_PER_PAGE_MAX) return null;
  if (events.some((event) => contractEvent(event) === 'bad')) return null;
  return { cursor, events: events.filter((event) => contractEvent(event) === 'apply') as FeedEvent[] };
}

const ACCOUNTS = ['00000000000000a1', '00000000000000a2', '00000000000000a3'];
const DEVICES = ['00000000000000d1', '00000000000000d2'];

const validEventArb: fc.Arbitrary<FeedEvent> = fc.oneof(
  fc.record({
    type: fc.constantFrom('account_frozen', 'account_unfrozen'),
    accountId: fc.constantFrom(...ACCOUNTS),
  }),
  fc.record({ type: fc.constant('device_revoked'), deviceId: fc.constantFrom(...DEVICES) }),
  fc.record({
    type: fc.constant('issuer_key_added'),
    kid: fc.integer({ min: 1, max: 3 }),
    publicKey: fc.stringMatching(/^[0-9a-f]{64}$/),
  }),
  fc.record({ type: fc.constant('issuer_key_revoked'), kid: fc.integer({ min: 1, max: 4 }) }),
  fc.record(
    {
      type: fc.constant('limits_changed'),
      perTransactionLimit: fc.integer({ min: 0, max: 50_000 }),
      storeLimit: fc.integer({ min: 0, max: 1_000_000 }),
      consecutiveMax: fc.integer({ min: 1, max: 1000 }),
      somethingNew: fc.nat(),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record({
    type: fc.constantFrom('weather_changed', 'account_renamed'),
    note: fc.string({ maxLength: 5 }),
  }),
);

/** An event with one field spoiled: a wrong type, an id that is not hex, a limit out of range. */
const badEventArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    { type: 'account_frozen', accountId: 'A0000000000000A1' },
    { type: 'account_frozen' },
    { type: 'account_frozen', accountId: 161 },
    { type: 'device_revoked', deviceId: '00000000000000d' },
    { type: 'issuer_key_added', kid: 256, publicKey: 'ab'.repeat(32) },
    { type: 'issuer_key_added', kid: 1, publicKey: 'AB'.repeat(32) },
    { type: 'issuer_key_revoked', kid: '1' },
    { type: 'limits_changed', perDeviceLimit: -1 },
    { type: 'limits_changed', storeLimit: 1.5 },
    { type: 'limits_changed', consecutiveMax: 0 },
    { type: 'limits_changed', perTransactionLimit: '5000' },
    { type: 'account_unfrozen', accountId: ACCOUNTS[0], createdAt: -5 },
    { type: 7 },
    { kind: 'account_frozen', accountId: ACCOUNTS[0] },
    null,
    'account_frozen',
    [],
  ),
  fc.jsonValue({ maxDepth: 2 }).filter((v) => !isObject(v) || typeof v.type !== 'string'),
);

interface PageRecipe {
  events: FeedEvent[];
  bad: unknown;
  badAt: number;
  cursor: unknown;
  tooMany: boolean;
  extras: Record<string, unknown>;
  spoil: Spoil;
  garbage: Buffer | null;
  envelope: Envelope;
}

const fuzzedPageArb: fc.Arbitrary<PageRecipe> = fc.record({
  events: fc.array(validEventArb, { maxLength: 5 }),
  bad: fc.option(badEventArb, { freq: 3, nil: undefined }),
  badAt: fc.nat(),
  cursor: fc.oneof(
    { weight: 8, arbitrary: fc.nat(100_000).map(String) },
    { weight: 1, arbitrary: fc.constantFrom(5, null, undefined, 'c'.repeat(65), ['1']) },
  ),
  tooMany: fc.nat(19).map((n) => n === 0),
  extras: extrasArb,
  spoil: spoilArb,
  garbage: fc.option(garbageArb, { freq: 6 }),
  envelope: envelopeArb,
});

const cleanPageArb: fc.Arbitrary<PageRecipe> = fuzzedPageArb.map((recipe) => ({
  ...recipe,
  bad: undefined,
  cursor: String(recipe.badAt),
  tooMany: false,
  ...AS_SENT,
}));

/** A sound page with exactly one thing wrong: one malformed event among good ones, a bad cursor, too many events. */
const nearPageArb: fc.Arbitrary<PageRecipe> = fc
  .tuple(
    cleanPageArb,
    fc.oneof(
      { weight: 4, arbitrary: badEventArb.map((bad) => ({ bad })) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(5, null, undefined, 'c'.repeat(65)).map((cursor) => ({ cursor })),
      },
      { weight: 1, arbitrary: fc.constant({ tooMany: true }) },
      { weight: 1, arbitrary: spoiledOnceArb },
    ),
  )
  .map(([recipe, defect]) => ({ ...recipe, ...defect }));

const pageRecipeArb: fc.Arbitrary<PageRecipe> = fc.oneof(
  { weight: 1, arbitrary: fuzzedPageArb },
  { weight: 1, arbitrary: cleanPageArb },
  { weight: 2, arbitrary: nearPageArb },
);

function pageAnswer(recipe: PageRecipe): Answer {
  if (recipe.garbage !== null) return answerOf(recipe.envelope, recipe.garbage);
  const events: unknown[] = recipe.tooMany
    ? Array.from({ length: FEED_EVENTS_PER_PAGE_MAX + 1 }, () => ({
        type: 'account_frozen',
        accountId: ACCOUNTS[2],
      }))
    : [...recipe.events];
  if (recipe.bad !== undefined) events.splice(recipe.badAt % (events.length + 1), 0, recipe.bad);
  const body = spoiled({ ...recipe.extras, cursor: recipe.cursor, events }, recipe.spoil);
  return answerOf(recipe.envelope, body, recipe.spoil.kind === 'huge' ? recipe.spoil : undefined);
}

/** The deny-lists, keys, limits and cursor the follower keeps: what a page may change. */
function feedSnapshot(db: Db): Json {
  const all = (sql: string) => db.prepare(sql).all();
  return {
    frozen: all('SELECT account_id FROM frozen_accounts ORDER BY account_id'),
    revoked: all('SELECT device_id FROM revoked_devices ORDER BY device_id'),
    keys: all('SELECT kid, public_key, revoked FROM issuer_keys ORDER BY kid'),
    limits: JSON.parse(getMeta(db, META_KEYS.offlineLimits) ?? '{}'),
    cursor: getMeta(db, META_KEYS.feedCursor),
    refreshedAt: getMeta(db, META_KEYS.feedRefreshedAt),
  };
}

/** The reference model of applying events to a snapshot (CONTRACT §3.4): written from the contract, not the code. */
function applied(before: Json, page: { cursor: string; events: FeedEvent[] }): Json {
  const frozen = new Set<string>(before.frozen.map((r: Json) => r.account_id));
  const revoked = new Set<string>(before.revoked.map((r: Json) => r.device_id));
  const keys = new Map<number, { public_key: string; revoked: number }>(
    before.keys.map((r: Json) => [r.kid, { public_key: r.public_key, revoked: r.revoked }]),
  );
  const limits = { ...before.limits };
  for (const event of page.events) {
    if (event.type === 'account_frozen') frozen.add(event.accountId as string);
    if (event.type === 'account_unfrozen') frozen.delete(event.accountId as string);
    if (event.type === 'device_revoked') revoked.add(event.deviceId as string);
    // A key added again keeps a revocation it had: a revoked kid never comes back by itself.
    if (event.type === 'issuer_key_added')
      keys.set(event.kid as number, {
        public_key: event.publicKey as string,
        revoked: keys.get(event.kid as number)?.revoked ?? 0,
      });
    if (event.type === 'issuer_key_revoked' && keys.has(event.kid as number))
      keys.get(event.kid as number)!.revoked = 1;
    if (event.type === 'limits_changed') {
      for (const name of [...LIMIT_NAMES, 'consecutiveMax'])
        if (event[name] !== undefined) limits[name] = event[name];
    }
  }
  return {
    frozen: [...frozen].sort().map((account_id) => ({ account_id })),
    revoked: [...revoked].sort().map((device_id) => ({ device_id })),
    keys: [...keys.entries()].sort(([a], [b]) => a - b).map(([kid, key]) => ({ kid, ...key })),
    limits,
    cursor: page.cursor,
  };
}

// ——— the suite ———

let fake: FakeWallet;
let client: HttpWalletClient;
let dir: string;
let db: Db;
let ledger: Ledger;
const logs: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  }),
});

beforeAll(async () => {
  watch.install();
  fake = await FakeWallet.start();
  client = new HttpWalletClient({ url: fake.url, storeKey: 'sk_fuzz-store-key-0123456789' });
  dir = mkdtempSync(join(tmpdir(), 'tillgate-fuzz-wallet-'));
  db = openDatabase(join(dir, 'gateway.sqlite'));
  ledger = new Ledger(db);
});

afterAll(async () => {
  watch.uninstall();
  db?.close();
  await fake?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  const statuses = (fake?.served ?? []).map(({ answer }) => (answer.kind === 'http' ? answer.status : 0));
  chaosReport('fuzz/wallet-responses', {
    seed: settings.seed,
    answers: figures.answers,
    upstream4xx: statuses.filter((status) => status >= 400 && status < 500).length,
    upstream5xx: statuses.filter((status) => status >= 500).length,
    rejected: figures.rejected,
    failures: [...failures].map(([kind, n]) => `${kind}:${n}`).join(','),
    approvals: figures.approvals,
    batchesMarked: figures.batchesMarked,
    pagesApplied: figures.pagesApplied,
    crashes: watch.seen.length,
    approvalsWithoutValidAnswer: figures.approvalsWithoutValidAnswer,
  });
});

/**
 * A call's deadline: short when the fake wallet will hang (that run tests the timeout), generous otherwise, so that a
 * busy machine never turns a valid answer into a timeout.
 */
const HANG_TIMEOUT_MS = 150;
const CALL_TIMEOUT_MS = 3_000;
const timeoutFor = (envelope: Envelope): number =>
  envelope.kind === 'hang' ? HANG_TIMEOUT_MS : CALL_TIMEOUT_MS;
const options = { numRuns: RUNS, seed: settings.seed, endOnFailure: true };

describe('the wallet client facing a wallet that answers garbage', () => {
  it(
    `authorize and query: an approval only from a valid approval for that very id (${RUNS} answers)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(authorizationRecipeArb, fc.boolean(), async (recipe, query) => {
          figures.answers += 1;
          const id = `a_${randomUUID()}`;
          fake.answer = (request) => authorizationAnswer(recipe, requestedId(request));
          const from = fake.served.length;
          const call = query
            ? client.getAuthorization(id, AbortSignal.timeout(timeoutFor(recipe.envelope)))
            : client.authorize(
                {
                  id,
                  storeId: STORE_ID,
                  laneId: 'lane-1',
                  payCode: 'PC1:X',
                  amount: 100,
                  currency: 'JPY',
                  createdAt: 1,
                },
                AbortSignal.timeout(timeoutFor(recipe.envelope)),
              );
          const result = await settle(call);
          const served = fake.served.slice(from);
          expect(served.length, 'one call, one request').toBeLessThanOrEqual(1);
          const answer = served[0]?.answer ?? { kind: 'close' };
          const said = contractAuthorization(answer, id);
          const notFound = query && delivered(answer)?.status === 404;
          if (result.ok && result.value === null) {
            expect(notFound, 'null only for a 404 to a query').toBe(true);
            return;
          }
          if (result.ok) {
            expect(result.value!.id, 'the answer is about the id asked').toBe(id);
            if (result.value!.status === 'approved') figures.approvals += 1;
            if (result.value!.status === 'approved' && said !== 'approved')
              figures.approvalsWithoutValidAnswer += 1;
            expect(result.value!.status, `believed ${result.value!.status}; the contract says ${said}`).toBe(
              said,
            );
          } else {
            expect(said, 'a valid answer for the id was refused').toBeNull();
          }
        }),
        options,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the online authorizer over several answers: approved only if a valid approval for the id came first',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(authorizationRecipeArb, { minLength: 1, maxLength: 4 }),
          fc.nat(3),
          async (script, down) => {
            const thenDown = down === 0;
            figures.answers += script.length;
            const id = `a_${randomUUID()}`;
            const from = fake.served.length;
            fake.answer = (request, index) => {
              const step = index - from;
              if (step < script.length) return authorizationAnswer(script[step]!, requestedId(request));
              // After the script the wallet is down, or it finally declines (so that most runs end before the deadline).
              const body = Buffer.from(JSON.stringify({ id: requestedId(request), status: 'declined' }));
              return thenDown
                ? { ...CLEAN_ANSWER, status: 503, body: Buffer.alloc(0) }
                : { ...CLEAN_ANSWER, body };
            };
            // Runs that must wait out the deadline get a short one; the others a long one they end well before.
            const waitsOut = thenDown || script.some((recipe) => recipe.envelope.kind === 'hang');
            const deadlineAt = Date.now() + (waitsOut ? 300 : 5_000);
            const outcome = await authorizeOnline(
              client,
              {
                id,
                storeId: STORE_ID,
                laneId: 'lane-1',
                payCode: 'PC1:X',
                amount: 100,
                currency: 'JPY',
                createdAt: 1,
              },
              { deadlineAt, queryIntervalMs: 5, now: Date.now },
            );
            const said = fake.served.slice(from).map(({ request, answer, at }) => ({
              inTime: at < deadlineAt - 100,
              send: request.method === 'POST',
              status: delivered(answer)?.status,
              verdict: contractAuthorization(answer, id),
            }));
            const firstFinal = said.findIndex((s) => s.verdict === 'approved' || s.verdict === 'declined');
            if (outcome.kind === 'approved') {
              figures.approvals += 1;
              if (said[firstFinal]?.verdict !== 'approved') figures.approvalsWithoutValidAnswer += 1;
              expect(said[firstFinal]?.verdict, JSON.stringify(said)).toBe('approved');
            }
            const refusedBefore = said
              .slice(0, firstFinal)
              .some((s) => s.status !== undefined && s.status >= 400 && s.status < 500);
            if (
              firstFinal >= 0 &&
              said[firstFinal]!.verdict === 'approved' &&
              said[firstFinal]!.inTime &&
              !refusedBefore
            )
              expect(outcome.kind, JSON.stringify(said)).toBe('approved');
            if (outcome.kind === 'declined') {
              const reason =
                said.some((s) => s.verdict === 'declined') ||
                said.some((s) => s.send && s.status! >= 400 && s.status! < 500);
              expect(reason, `declined without a decline or a refusal: ${JSON.stringify(said)}`).toBe(true);
            }
          },
        ),
        { ...options, numRuns: Math.max(1, Math.floor(RUNS / 2)) },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'issuer keys, reversals and refunds: a value or a WalletCallError, never anything else',
    async () => {
      const keyListArb = fc.oneof(
        fc.array(
          fc.record({
            kid: fc.integer({ min: 0, max: 255 }),
            publicKey: fc.stringMatching(/^[0-9a-f]{64}$/),
            revoked: fc.boolean(),
          }),
          { maxLength: 3 },
        ),
        fc.constantFrom(
          [{ kid: 256, publicKey: 'ab'.repeat(32), revoked: false }],
          [{ kid: 1, publicKey: 'ab', revoked: false }],
          [{ kid: 1 }],
          {},
        ),
      );
      await fc.assert(
        fc.asyncProperty(
          keyListArb,
          spoilArb,
          envelopeArb,
          fc.constantFrom('keys', 'reverse', 'refund'),
          fc.boolean(),
          async (keys, spoil, envelope, call, confirm) => {
            figures.answers += 1;
            const id = call === 'refund' ? `r_${randomUUID()}` : `a_${randomUUID()}`;
            // Half the reversals and refunds get the wallet's confirmation of that very call, spoiled or not.
            const confirmation =
              call === 'reverse'
                ? { id, status: 'reversed' }
                : { id, authorizationId: 'a_1', amount: 5, status: 'refunded' };
            const value = call !== 'keys' && confirm ? confirmation : keys;
            fake.answer = () =>
              answerOf(envelope, spoiled(value, spoil), spoil.kind === 'huge' ? spoil : undefined);
            const from = fake.served.length;
            const signal = AbortSignal.timeout(timeoutFor(envelope));
            const result = await settle<unknown>(
              call === 'keys'
                ? client.issuerKeys(signal)
                : call === 'reverse'
                  ? client.reverse(id, signal)
                  : client.refund({ id, authorizationId: 'a_1', amount: 5 }, signal),
            );
            const answer = fake.served[from]?.answer ?? { kind: 'close' };
            if (result.ok) expect(okJson(answer), 'resolved without a whole 2xx JSON answer').toBeDefined();
            if (result.ok && call !== 'keys') {
              // A reversal or refund is done only on the wallet's confirmation of that call.
              expect(okJson(answer)!.value, `${call} done without its confirmation`).toMatchObject(
                confirmation,
              );
            }
            if (result.ok && call === 'keys') {
              const list = okJson(answer)!.value;
              expect(Array.isArray(list), 'issuer keys from something that is not a list').toBe(true);
              for (const key of list as Json[]) {
                expect(Number.isInteger(key.kid) && key.kid >= 0 && key.kid <= 255).toBe(true);
                expect(HEX64.test(key.publicKey) && typeof key.revoked === 'boolean').toBe(true);
              }
            }
          },
        ),
        { ...options, numRuns: Math.max(1, Math.floor(RUNS / 3)) },
      );
    },
    TEST_TIMEOUT_MS,
  );
});

describe('the ledger uploader facing garbage batch answers', () => {
  let entryNo = 0;
  const pendingRows = () =>
    db
      .prepare(
        "SELECT ledger_seq, status, result_reason FROM outbox WHERE kind = 'ledger_entry' ORDER BY ledger_seq",
      )
      .all() as {
      ledger_seq: number;
      status: string;
      result_reason: string | null;
    }[];

  function appendEntries(count: number): void {
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        entryNo += 1;
        const entry = ledger.append({
          entryId: `entry-${entryNo}`,
          type: 'authorization',
          mode: 'offline',
          paymentId: `pay-${entryNo}`,
          authorizationId: `auth-${entryNo}`,
          amount: 100 + entryNo,
          currency: 'JPY',
          laneId: 'lane-1',
          registerId: 'register-1',
          occurredAt: new Date().toISOString(),
        });
        db.prepare("INSERT INTO outbox (kind, ledger_seq, created_at) VALUES ('ledger_entry', ?, ?)").run(
          entry.seq,
          Date.now(),
        );
      }
    })();
  }

  it(
    `marks rows only from a valid answer for the batch sent (${RUNS} answers)`,
    async () => {
      const uploader = (callTimeoutMs: number) =>
        new LedgerUploader({
          db,
          wallet: client,
          storeId: STORE_ID,
          config: { batchEntriesMax: 4, callTimeoutMs },
          logger,
          now: Date.now,
        });
      await fc.assert(
        fc.asyncProperty(batchRecipeArb, fc.integer({ min: 0, max: 2 }), async (recipe, newEntries) => {
          figures.answers += 1;
          appendEntries(newEntries);
          fake.answer = (request) => batchAnswer(recipe, request.body.entries as LedgerEntry[]);
          const before = pendingRows();
          const from = fake.served.length;
          const step = await uploader(timeoutFor(recipe.envelope)).step(new AbortController().signal);
          const after = pendingRows();
          const served = fake.served[from];
          if (served === undefined) {
            expect(step.kind).toBe('idle');
            expect(after).toEqual(before);
            return;
          }
          const entries = served.request.body.entries as LedgerEntry[];
          const results = contractBatch(served.answer, entries);
          const sentSeqs = new Set(entries.map((e) => e.seq));
          const others = (rows: typeof before) => rows.filter((r) => !sentSeqs.has(r.ledger_seq));
          expect(others(after), 'rows outside the batch changed').toEqual(others(before));
          const mine = after.filter((r) => sentSeqs.has(r.ledger_seq));
          if (results === null) {
            expect(step.kind, JSON.stringify(step)).not.toBe('uploaded');
            expect(
              mine.every((r) => r.status === 'pending'),
              'a row was marked from a malformed answer',
            ).toBe(true);
            if (step.kind === 'failed') countFailure(new WalletCallError('bad_response', step.error));
            return;
          }
          figures.batchesMarked += 1;
          expect(step.kind).toBe('uploaded');
          expect(mine).toEqual(
            entries.map((entry, i) => ({
              ledger_seq: entry.seq,
              status: results[i]!.status === 'settled' ? 'done' : 'rejected',
              result_reason: results[i]!.status === 'settled' ? null : (results[i]!.reason ?? null),
            })),
          );
        }),
        options,
      );
      expect(figures.batchesMarked, 'some answers were valid and marked their rows').toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('the risk-feed follower facing garbage pages', () => {
  it(
    `applies a page only when all of it is valid (${RUNS} answers)`,
    async () => {
      const follower = (callTimeoutMs: number) =>
        new RiskFeedFollower({
          db,
          wallet: client,
          storeId: STORE_ID,
          config: {
            feedWaitMs: 0,
            feedPollIntervalMs: 10,
            feedLongPollRetryMs: 100,
            callTimeoutMs,
            retryInitialDelayMs: 10,
            retryMaxDelayMs: 50,
            feedEventsPerPageMax: FEED_EVENTS_PER_PAGE_MAX,
          },
          logger,
          now: Date.now,
          random: () => 0.5,
        });
      await fc.assert(
        fc.asyncProperty(pageRecipeArb, async (recipe) => {
          figures.answers += 1;
          fake.answer = () => pageAnswer(recipe);
          const before = feedSnapshot(db);
          const from = fake.served.length;
          let threw: unknown;
          try {
            await follower(timeoutFor(recipe.envelope)).pollOnce(0);
          } catch (error) {
            threw = error;
          }
          const after = feedSnapshot(db);
          const page = contractPage(fake.served[from]?.answer ?? { kind: 'close' });
          if (page === null) {
            expect(threw, 'a malformed page was taken').toBeDefined();
            expect(threw instanceof WalletCallError || threw instanceof RiskFeedError, String(threw)).toBe(
              true,
            );
            countFailure(threw);
            expect(after, 'a malformed page changed the feed state').toEqual(before);
            return;
          }
          expect(threw, String(threw)).toBeUndefined();
          figures.pagesApplied += 1;
          const { refreshedAt, ...state } = after;
          expect(state).toEqual(applied(before, page));
          expect(refreshedAt).not.toBeNull();
        }),
        options,
      );
      expect(figures.pagesApplied, 'some pages were valid and applied').toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('afterwards', () => {
  it('nothing crashed: no unhandled rejection, no uncaught exception', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(watch.seen).toEqual([]);
    expect(figures.approvalsWithoutValidAnswer).toBe(0);
  });
});
