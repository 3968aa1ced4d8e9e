// WalletClient over HTTP + JSON with the store key as bearer. Every answer is checked with zod:
// a wallet that answers nonsense is a fault (bad_response), never an approval.
import { z } from 'zod';
import type { LedgerEntry } from '../ledger/chain.js';
import {
  type AuthorizationRequest,
  type AuthorizationResult,
  type BatchResult,
  type IssuerKeyInfo,
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

export interface HttpWalletClientOptions {
  url: string;
  storeKey: string;
}

export class HttpWalletClient implements WalletClient {
  readonly #base: string;
  #auth: string;

  constructor(options: HttpWalletClientOptions) {
    this.#base = options.url.replace(/\/+$/, '');
    this.#auth = `Bearer ${options.storeKey}`;
  }

  /** A rotated store key (config reload); calls already sent finish with the key they were sent with. */
  setStoreKey(storeKey: string): void {
    this.#auth = `Bearer ${storeKey}`;
  }

  async authorize(request: AuthorizationRequest, signal: AbortSignal): Promise<AuthorizationResult> {
    const body = await this.#call('POST', '/v1/authorizations', request, signal);
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
      {},
      signal,
    );
    forId(parse(ReversalResultSchema, body.json, 'reversal'), authorizationId);
  }

  /** Done only when the wallet confirms this refund (id, authorization, amount) as refunded. */
  async refund(request: RefundRequest, signal: AbortSignal): Promise<void> {
    const body = await this.#call('POST', '/v1/refunds', request, signal);
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

  async uploadBatch(
    batch: { storeId: string; batchId: string; entries: LedgerEntry[] },
    signal: AbortSignal,
  ): Promise<BatchResult> {
    const body = await this.#call('POST', '/v1/ledger/batches', batch, signal);
    return parse(BatchResultSchema, body.json, 'batch result');
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
    payload: unknown,
    signal: AbortSignal,
    passStatuses: number[] = [],
  ): Promise<{ status: number; json: unknown }> {
    let response: Response;
    try {
      response = await fetch(this.#base + path, {
        method,
        headers:
          payload === undefined
            ? { authorization: this.#auth }
            : { authorization: this.#auth, 'content-type': 'application/json' },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        // The wallet API never redirects: a 3xx is an answer that decides nothing, not a place to send the store
        // key and a pay code to.
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw asCallError(error, signal);
    }
    let text: string;
    try {
      text = await readBounded(response);
    } catch (error) {
      throw asCallError(error, signal);
    }
    let json: unknown;
    try {
      json = text.length ? JSON.parse(text) : undefined;
    } catch (error) {
      throw new WalletCallError(
        'bad_response',
        `wallet answered ${response.status} with a body that is not JSON`,
        {
          status: response.status,
          cause: error,
        },
      );
    }
    if (response.ok || passStatuses.includes(response.status)) return { status: response.status, json };
    const parsed = ErrorBodySchema.safeParse(json);
    if (!parsed.success)
      throw new WalletCallError('http', `wallet answered ${response.status}`, { status: response.status });
    const { code, message: _message, ...details } = parsed.data.error;
    throw new WalletCallError('http', `wallet answered ${response.status} ${code}`, {
      status: response.status,
      code,
      details,
    });
  }
}

async function readBounded(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > RESPONSE_BYTES_MAX) throw new WalletCallError('bad_response', 'wallet response too large');
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > RESPONSE_BYTES_MAX) throw new WalletCallError('bad_response', 'wallet response too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).message ?? String(error);
}
