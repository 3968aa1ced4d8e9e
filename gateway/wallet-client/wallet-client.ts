// The wallet contract as the gateway sees it (CONTRACT §3). Types only; http-wallet-client.ts implements it.
// Every call takes an AbortSignal: the caller owns the deadline. A call either returns what the wallet
// answered or throws WalletCallError; it never guesses an outcome.
import type { LedgerEntry } from '../ledger/chain.js';

export interface AuthorizationRequest {
  id: string;
  storeId: string;
  laneId: string;
  payCode: string;
  amount: number;
  currency: string;
  basket?: { category: string; amount: number }[];
  /** Unix seconds. */
  createdAt: number;
}

export interface AuthorizationResult {
  id: string;
  status: 'approved' | 'declined' | 'pending';
  reason?: string;
  accountId?: string;
  deviceId?: string;
}

export interface RefundRequest {
  id: string;
  authorizationId: string;
  amount: number;
}

export interface IssuerKeyInfo {
  kid: number;
  publicKey: string;
  revoked: boolean;
}

export interface BatchResult {
  acceptedThroughSeq: number;
  results: { entryId: string; status: 'settled' | 'rejected'; reason?: string }[];
}

export interface RiskFeedPage {
  cursor: string;
  events: ({ type: string } & Record<string, unknown>)[];
}

export type WalletFailure = 'timeout' | 'network' | 'http' | 'bad_response';

export class WalletCallError extends Error {
  readonly failure: WalletFailure;
  readonly status?: number;
  readonly code?: string;
  /** The other fields of the wallet's error body (e.g. `seq` and `problem` of a 409 chain_broken), unchecked. */
  readonly details?: Record<string, unknown>;

  constructor(
    failure: WalletFailure,
    message: string,
    options: { status?: number; code?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'WalletCallError';
    this.failure = failure;
    if (options.status !== undefined) this.status = options.status;
    if (options.code !== undefined) this.code = options.code;
    if (options.details !== undefined) this.details = options.details;
  }

  /** True when the wallet answered and refused the request as such; repeating it will not help. */
  get definitive(): boolean {
    return (
      this.failure === 'http' &&
      this.status !== undefined &&
      this.status >= 400 &&
      this.status < 500 &&
      ![404, 408, 409, 425, 429].includes(this.status)
    );
  }
}

/** One upload of ledger entries (CONTRACT §3.2): the store, the batch id, the entries in seq order. */
export interface LedgerBatch {
  storeId: string;
  batchId: string;
  entries: LedgerEntry[];
}

export interface WalletClient {
  authorize(request: AuthorizationRequest, signal: AbortSignal): Promise<AuthorizationResult>;
  /** null when the wallet never saw the id (404). */
  getAuthorization(id: string, signal: AbortSignal): Promise<AuthorizationResult | null>;
  reverse(authorizationId: string, signal: AbortSignal): Promise<void>;
  refund(request: RefundRequest, signal: AbortSignal): Promise<void>;
  issuerKeys(signal: AbortSignal): Promise<IssuerKeyInfo[]>;
  uploadBatch(batch: LedgerBatch, signal: AbortSignal): Promise<BatchResult>;
  /**
   * Optional: encodes a batch ahead of its uploadBatch() (the uploader does it while the batch before is at the
   * wallet), so that the upload can start at once. The same batch (store, id, entries array) must follow.
   */
  prepareBatch?(batch: LedgerBatch): void;
  riskFeed(
    storeId: string,
    cursor: string | null,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<RiskFeedPage>;
}
