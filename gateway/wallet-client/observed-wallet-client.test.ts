// The observing decorator passes every call through, including the optional ones the inner client has.
import { describe, expect, it } from 'vitest';
import { observeWallet } from './observed-wallet-client.js';
import type { LedgerBatch, WalletClient } from './wallet-client.js';

const batch: LedgerBatch = { storeId: 's_1', batchId: 'b_1', entries: [] };
const observer = { contact: () => undefined, latency: () => undefined };

function inner(extra: Partial<WalletClient> = {}): WalletClient {
  const unused = () => Promise.reject(new Error('not called here'));
  return {
    authorize: unused,
    getAuthorization: unused,
    reverse: unused,
    refund: unused,
    issuerKeys: unused,
    uploadBatch: unused,
    riskFeed: unused,
    ...extra,
  };
}

describe('observeWallet', () => {
  it('passes prepareBatch through to a client that encodes batches ahead', () => {
    const prepared: LedgerBatch[] = [];
    const observed = observeWallet(inner({ prepareBatch: (b) => void prepared.push(b) }), observer);
    observed.prepareBatch?.(batch);
    expect(prepared).toEqual([batch]);
  });

  it('has no prepareBatch when the inner client has none', () => {
    expect(observeWallet(inner(), observer).prepareBatch).toBeUndefined();
  });
});
