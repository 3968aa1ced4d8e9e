// A WalletClient decorator that reports every call's result to the health signal and its latency to metrics.
// An answer of any kind (even an HTTP error) is contact; a timeout or a network error is not.
import { WalletCallError, type WalletClient } from './wallet-client.js';

export interface WalletObserver {
  contact(reachable: boolean): void;
  latency(operation: string, seconds: number, outcome: 'ok' | 'error'): void;
}

export function observeWallet(inner: WalletClient, observer: WalletObserver): WalletClient {
  async function observe<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await call();
      observer.latency(operation, (performance.now() - started) / 1000, 'ok');
      observer.contact(true);
      return result;
    } catch (error) {
      observer.latency(operation, (performance.now() - started) / 1000, 'error');
      const answered =
        error instanceof WalletCallError && (error.failure === 'http' || error.failure === 'bad_response');
      observer.contact(answered);
      throw error;
    }
  }
  return {
    authorize: (request, signal) => observe('authorize', () => inner.authorize(request, signal)),
    getAuthorization: (id, signal) => observe('query', () => inner.getAuthorization(id, signal)),
    reverse: (id, signal) => observe('reverse', () => inner.reverse(id, signal)),
    refund: (request, signal) => observe('refund', () => inner.refund(request, signal)),
    issuerKeys: (signal) => observe('issuer_keys', () => inner.issuerKeys(signal)),
    uploadBatch: (batch, signal) => observe('upload', () => inner.uploadBatch(batch, signal)),
    // Not a call to the wallet (the next batch encoded ahead): nothing to observe. Dropped, the gateway's own
    // uploader would never encode ahead.
    ...(inner.prepareBatch && { prepareBatch: inner.prepareBatch.bind(inner) }),
    riskFeed: (storeId, cursor, waitMs, signal) =>
      observe('risk_feed', () => inner.riskFeed(storeId, cursor, waitMs, signal)),
  };
}
