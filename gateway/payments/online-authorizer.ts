// Online authorization against the wallet with one deadline (CONTRACT §3.1). The id was written to SQLite
// before this runs and is reused on every send; timeout, reset, 5xx and `pending` lead to queries until the
// deadline. The result is approved, declined, or unknown: this function never guesses. With `stopOnRefused`, a
// first send the wallet's host refused (nothing listening: the request never left) ends the wait at once.
import { withDeadline } from '../deadline.js';
import { type DeclineReason, isDeclineReason } from '../decline-reasons.js';
import {
  type AuthorizationRequest,
  type AuthorizationResult,
  WalletCallError,
  type WalletClient,
} from '../wallet-client/wallet-client.js';

export type OnlineOutcome =
  | { kind: 'approved'; accountId?: string; deviceId?: string }
  | { kind: 'declined'; reason: DeclineReason; walletReason?: string }
  /**
   * `unreachable`: no answer of any kind arrived (connection refused or reset, timeouts); `refused`: the first
   * send's connection was refused and `stopOnRefused` was set, so the wallet never saw the id.
   */
  | { kind: 'unknown'; cause: UnknownCause };

export type UnknownCause = 'unreachable' | 'refused' | 'pending' | 'wallet_error';

export interface OnlineOptions {
  /** Unix ms by which the outcome must be known. */
  deadlineAt: number;
  queryIntervalMs: number;
  now: () => number;
  /** Aborted when the gateway shuts down: the outcome then stays unknown. */
  signal?: AbortSignal;
  /** Give up at once when the first send's connection is refused (the caller can decide offline). */
  stopOnRefused?: boolean;
}

type Step =
  | { done: OnlineOutcome }
  | { retry: 'send' | 'query'; cause: 'unreachable' | 'pending' | 'wallet_error'; refused?: true };

export async function authorizeOnline(
  wallet: WalletClient,
  request: AuthorizationRequest,
  options: OnlineOptions,
): Promise<OnlineOutcome> {
  const send = () =>
    attempt(() => withCallDeadline(options, (signal) => wallet.authorize(request, signal)), 'send');
  const query = () =>
    attempt(
      () => withCallDeadline(options, (signal) => wallet.getAuthorization(request.id, signal)),
      'query',
    );
  let step = await send();
  if ('retry' in step && step.refused && options.stopOnRefused) return { kind: 'unknown', cause: 'refused' };
  while ('retry' in step) {
    const remaining = options.deadlineAt - options.now();
    if (remaining <= 0 || options.signal?.aborted) return { kind: 'unknown', cause: step.cause };
    await pause(Math.min(options.queryIntervalMs, remaining), options.signal);
    if (options.deadlineAt - options.now() <= 0 || options.signal?.aborted) {
      return { kind: 'unknown', cause: step.cause };
    }
    step = step.retry === 'send' ? await send() : await query();
  }
  return step.done;
}

async function attempt(
  call: () => Promise<AuthorizationResult | null>,
  kind: 'send' | 'query',
): Promise<Step> {
  try {
    const result = await call();
    // 404 on a query: the wallet never saw the id, so sending it again (same id) is safe.
    if (result === null) return { retry: 'send', cause: 'unreachable' };
    return fromResult(result);
  } catch (error) {
    if (!(error instanceof WalletCallError)) throw error;
    if (error.definitive && kind === 'send') {
      return {
        done: {
          kind: 'declined',
          reason: 'wallet_declined',
          walletReason: error.code ?? `http_${error.status}`,
        },
      };
    }
    const cause =
      error.failure === 'http' || error.failure === 'bad_response' ? 'wallet_error' : 'unreachable';
    return isConnectionRefused(error) ? { retry: 'query', cause, refused: true } : { retry: 'query', cause };
  }
}

/** ECONNREFUSED anywhere in the cause chain of a network failure (fetch wraps the socket error). */
export function isConnectionRefused(error: WalletCallError): boolean {
  if (error.failure !== 'network') return false;
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 4 && typeof cause === 'object' && cause !== null; depth++) {
    const { code, errors } = cause as { code?: unknown; errors?: unknown };
    if (code === 'ECONNREFUSED') return true;
    if (Array.isArray(errors) && errors.some((e) => (e as { code?: unknown })?.code === 'ECONNREFUSED')) {
      return true;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

function fromResult(result: AuthorizationResult): Step {
  if (result.status === 'pending') return { retry: 'query', cause: 'pending' };
  if (result.status === 'approved') {
    const done: OnlineOutcome = { kind: 'approved' };
    if (result.accountId !== undefined) done.accountId = result.accountId;
    if (result.deviceId !== undefined) done.deviceId = result.deviceId;
    return { done };
  }
  const reason: DeclineReason = isDeclineReason(result.reason) ? result.reason : 'wallet_declined';
  const done: OnlineOutcome = { kind: 'declined', reason };
  if (result.reason !== undefined) done.walletReason = result.reason;
  return { done };
}

/** One call, aborted at the deadline or when the gateway stops. */
function withCallDeadline<T>(options: OnlineOptions, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withDeadline(options.signal, Math.max(1, options.deadlineAt - options.now()), call);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
