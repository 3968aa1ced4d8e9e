// WalletClient over HTTP + JSON with the store key as bearer. Every answer is checked with zod:
// a wallet that answers nonsense is a fault (bad_response), never an approval. The transport is node:http(s) with
// one keep-alive agent per client, not fetch: a payment's wallet call is on the register's critical path, and
// fetch's streams and signals cost several times the CPU of the call itself (docs/benchmarks.md); node:http also
// never follows a redirect.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import * as z from 'zod';
import {
  type AuthorizationRequest,
  type AuthorizationResult,
  type BatchResult,
  type IssuerKeyInfo,
  type LedgerBatch,
  type RefundRequest,
  type RiskFeedPage,
  WalletCallError,
  type WalletClient,
} from './wallet-client.js';

const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);

const AuthorizationResultSchema = z.object({
  id: z.string(),
  status: z.enum(['approved', 'declined', 'pending']),
  reason: z.string().max(64).optional(),
  accountId: Hex16.optional(),
  deviceId: Hex16.optional(),
});

const ReversalResultSchema = z.object({ id: z.string(), status: z.literal('reversed') });

const RefundResultSchema = z.object({
  id: z.string(),
  authorizationId: z.string(),
  amount: z.number(),
  status: z.literal('refunded'),
});

const IssuerKeysSchema = z.array(
  z.object({
    kid: z.number().int().min(0).max(255),
    publicKey: z.string().regex(/^[0-9a-f]{64}$/),
    revoked: z.boolean(),
  }),
);

const BatchResultSchema = z.object({
  acceptedThroughSeq: z.number().int().nonnegative(),
  results: z.array(
    z.object({
      entryId: z.string(),
      status: z.enum(['settled', 'rejected']),
      reason: z.string().max(64).optional(),
    }),
  ),
});

const RiskFeedSchema = z.object({
  cursor: z.string().max(64),
  events: z.array(z.looseObject({ type: z.string().max(64) })).max(10_000),
});

const ErrorBodySchema = z.object({
  error: z.looseObject({ code: z.string().max(64), message: z.string().optional() }),
});

/** Wallet answers are small; anything larger is refused before it is parsed. */
const RESPONSE_BYTES_MAX = 4 * 1024 * 1024;

/**
 * A ledger batch is written out and sent in pieces of this many entries (about 60 kB). A whole batch as one string,
 * and its bytes, are large objects that only a full garbage collection frees: between two of those they piled up
 * to 20–30 MB of the uploader's peak memory (bench/sync-backlog.ts). Pieces this small die young.
 */
const BATCH_ENTRIES_PER_CHUNK = 100;

/** A batch encoded ahead of its upload (prepareBatch). */
type PreparedBatch = LedgerBatch & { pieces: string[] };

/** A request body: a value sent as JSON, or JSON text in pieces, sent as they are encoded, with its length. */
type Payload = { json: unknown } | { pieces: string[] };

export interface HttpWalletClientOptions {
  url: string;
  storeKey: string;
}

export class HttpWalletClient implements WalletClient {
  readonly #base: URL;
  readonly #basePath: string;
  readonly #request: typeof httpRequest;
  readonly #agent: HttpAgent;
  #auth: string;
  #preparedBatch: PreparedBatch | null = null;

  constructor(options: HttpWalletClientOptions) {
    this.#base = new URL(options.url);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') {
      throw new TypeError(`wallet url must be http or https, not ${this.#base.protocol}`);
    }
    this.#basePath = this.#base.pathname.replace(/\/+$/, '');
    const https = this.#base.protocol === 'https:';
    this.#request = https ? httpsRequest : httpRequest;
    // Idle connections close before a typical server's keep-alive timeout (5 s for Node; a shorter Keep-Alive hint
    // from the wallet wins), so that a reused socket is seldom one the wallet is closing; 'lifo' keeps a few warm.
    // Idle sockets do not keep the process alive (the agent unrefs them).
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: 1_000,
      timeout: 4_000,
      scheduling: 'lifo' as const,
    };
    this.#agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#auth = `Bearer ${options.storeKey}`;
  }

  /** A rotated store key (config reload); calls already sent finish with the key they were sent with. */
  setStoreKey(storeKey: string): void {
    this.#auth = `Bearer ${storeKey}`;
  }

  async authorize(request: AuthorizationRequest, signal: AbortSignal): Promise<AuthorizationResult> {
    const body = await this.#call('POST', '/v1/authorizations', { json: request }, signal);
    return forId(parse(AuthorizationResultSchema, body.json, 'authorization'), request.id);
  }

  async getAuthorization(id: string, signal: AbortSignal): Promise<AuthorizationResult | null> {
    const body = await this.#call(
      'GET',
      `/v1/authorizations/${encodeURIComponent(id)}`,
      undefined,
      signal,
      [404],
    );
    if (body.status === 404) return null;
    return forId(parse(AuthorizationResultSchema, body.json, 'authorization'), id);
  }

  /** Done only when the wallet says so for this very id: any other 2xx answer leaves the reversal queued. */
  async reverse(authorizationId: string, signal: AbortSignal): Promise<void> {
    const body = await this.#call(
      'POST',
      `/v1/authorizations/${encodeURIComponent(authorizationId)}/reversal`,
      { json: {} },
      signal,
    );
    forId(parse(ReversalResultSchema, body.json, 'reversal'), authorizationId);
  }

  /** Done only when the wallet confirms this refund (id, authorization, amount) as refunded. */
  async refund(request: RefundRequest, signal: AbortSignal): Promise<void> {
    const body = await this.#call('POST', '/v1/refunds', { json: request }, signal);
    const answer = parse(RefundResultSchema, body.json, 'refund');
    if (
      answer.id !== request.id ||
      answer.authorizationId !== request.authorizationId ||
      answer.amount !== request.amount
    )
      throw new WalletCallError('bad_response', 'wallet answered about another refund');
  }

  async issuerKeys(signal: AbortSignal): Promise<IssuerKeyInfo[]> {
    const body = await this.#call('GET', '/v1/issuer-keys', undefined, signal);
    return parse(IssuerKeysSchema, body.json, 'issuer keys');
  }

  async uploadBatch(batch: LedgerBatch, signal: AbortSignal): Promise<BatchResult> {
    const prepared = this.#preparedBatch;
    this.#preparedBatch = null;
    const pieces =
      prepared !== null &&
      prepared.entries === batch.entries &&
      prepared.storeId === batch.storeId &&
      prepared.batchId === batch.batchId
        ? prepared.pieces
        : batchJsonPieces(batch);
    const body = await this.#call('POST', '/v1/ledger/batches', { pieces }, signal);
    return parse(BatchResultSchema, body.json, 'batch result');
  }

  /** Holds one batch's pieces (about 60 kB each, so they still die young) for the uploadBatch() that follows. */
  prepareBatch(batch: LedgerBatch): void {
    this.#preparedBatch = { ...batch, pieces: batchJsonPieces(batch) };
  }

  async riskFeed(
    storeId: string,
    cursor: string | null,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<RiskFeedPage> {
    const query = new URLSearchParams({ waitMs: String(waitMs) });
    if (cursor !== null) query.set('cursor', cursor);
    const body = await this.#call(
      'GET',
      `/v1/stores/${encodeURIComponent(storeId)}/risk-feed?${query}`,
      undefined,
      signal,
    );
    return parse(RiskFeedSchema, body.json, 'risk feed') as RiskFeedPage;
  }

  async #call(
    method: 'GET' | 'POST',
    path: string,
    payload: Payload | undefined,
    signal: AbortSignal,
    passStatuses: number[] = [],
  ): Promise<{ status: number; json: unknown }> {
    let status: number;
    let text: string;
    try {
      ({ status, text } = await this.#send(method, path, payload, signal));
    } catch (error) {
      throw asCallError(error, signal);
    }
    let json: unknown;
    try {
      json = text.length ? JSON.parse(text) : undefined;
    } catch (error) {
      throw new WalletCallError('bad_response', `wallet answered ${status} with a body that is not JSON`, {
        status,
        cause: error,
      });
    }
    if ((status >= 200 && status < 300) || passStatuses.includes(status)) return { status, json };
    const parsed = ErrorBodySchema.safeParse(json);
    if (!parsed.success) throw new WalletCallError('http', `wallet answered ${status}`, { status });
    const { code, message: _message, ...details } = parsed.data.error;
    throw new WalletCallError('http', `wallet answered ${status} ${code}`, { status, code, details });
  }

  /** One request and its whole answer, bounded; rejects on any network failure, a cut-off body included. */
  #send(
    method: 'GET' | 'POST',
    path: string,
    payload: Payload | undefined,
    signal: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    // Framed by its length, pieces or not (never chunked): the wallet sees the same request either way.
    const pieces =
      payload === undefined ? [] : 'json' in payload ? [JSON.stringify(payload.json)] : payload.pieces;
    const headers: Record<string, string | number> = {
      authorization: this.#auth,
      accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = pieces.reduce((bytes, piece) => bytes + Buffer.byteLength(piece), 0);
    }
    return new Promise((resolve, reject) => {
      const req = this.#request(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname.replace(/^\[|\]$/g, ''),
          port: this.#base.port,
          path: this.#basePath + path,
          method,
          headers,
          agent: this.#agent,
          signal,
        },
        (res) => readBounded(res).then((text) => resolve({ status: res.statusCode ?? 0, text }), reject),
      );
      req.on('error', reject);
      for (let piece = pieces.shift(); piece !== undefined; piece = pieces.shift()) req.write(piece);
      req.end();
    });
  }
}

/** The batch's JSON text, BATCH_ENTRIES_PER_CHUNK entries a piece. */
function batchJsonPieces(batch: LedgerBatch): string[] {
  const { entries, ...head } = batch;
  const pieces = [`${JSON.stringify(head).slice(0, -1)},"entries":[`];
  for (let i = 0; i < entries.length; i += BATCH_ENTRIES_PER_CHUNK) {
    const list = JSON.stringify(entries.slice(i, i + BATCH_ENTRIES_PER_CHUNK)).slice(1, -1);
    pieces.push(i === 0 ? list : `,${list}`);
  }
  pieces.push(']}');
  return pieces;
}

function readBounded(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length'] ?? '0');
    if (declared > RESPONSE_BYTES_MAX) {
      res.destroy();
      reject(new WalletCallError('bad_response', 'wallet response too large'));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > RESPONSE_BYTES_MAX) {
        res.destroy();
        reject(new WalletCallError('bad_response', 'wallet response too large'));
        return;
      }
      chunks.push(chunk);
    });
    // A body cut short (the connection reset or closed before its end) is a network failure, never an answer.
    res.on('aborted', () =>
      reject(Object.assign(new Error('wallet answer cut off'), { code: 'ECONNRESET' })),
    );
    res.on('error', reject);
    res.on('end', () => {
      if (res.complete) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(Object.assign(new Error('wallet answer cut off'), { code: 'ECONNRESET' }));
    });
  });
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new WalletCallError('bad_response', `wallet sent a malformed ${what}`, { cause: result.error });
  return result.data;
}

/** An answer about another authorization (a mixed-up or replayed response) says nothing about this one. */
function forId<T extends { id: string }>(result: T, id: string): T {
  if (result.id !== id)
    throw new WalletCallError('bad_response', 'wallet answered about another authorization id');
  return result;
}

function asCallError(error: unknown, signal: AbortSignal): WalletCallError {
  if (error instanceof WalletCallError) return error;
  if (signal.aborted)
    return new WalletCallError('timeout', 'wallet did not answer in time', { cause: error });
  return new WalletCallError('network', `wallet unreachable: ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  const { code, cause } = error as { code?: string; cause?: { code?: string } };
  return code ?? cause?.code ?? (error as Error).message ?? String(error);
}
