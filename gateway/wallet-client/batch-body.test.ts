// A ledger batch goes upstream in pieces: what the wallet reads is still one request framed by its length, whose
// body is the batch's JSON, for any number of entries, with the store key as bearer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { entryHash, GENESIS_HASH, type LedgerEntry, type UnhashedEntry } from '../ledger/chain.js';
import { HttpWalletClient } from './http-wallet-client.js';

let wallet: Server;
let url: string;
const received: Record<string, string | undefined>[] = [];

beforeAll(async () => {
  wallet = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { authorization, 'content-type': type, 'content-length': length } = req.headers;
      received.push({ body, authorization, type, length, chunked: req.headers['transfer-encoding'] });
      const { entries } = JSON.parse(body) as { entries: LedgerEntry[] };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          acceptedThroughSeq: entries.at(-1)?.seq ?? 0,
          results: entries.map((entry) => ({ entryId: entry.entryId, status: 'settled' })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => wallet.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(wallet.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => wallet.close(resolve));
});

function chain(length: number): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const unhashed: UnhashedEntry = {
      seq,
      entryId: `e-${seq}`,
      type: 'authorization',
      mode: seq % 2 === 0 ? 'online' : 'offline',
      paymentId: `p-${seq}`,
      authorizationId: `a-${seq}`,
      amount: seq,
      currency: 'JPY',
      ...(seq % 3 === 0 ? {} : { accountId: '0123456789abcdef', counter: seq }),
      laneId: 'lane-"1"',
      registerId: 'レジ-1',
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      prevHash,
    };
    const entry = { ...unhashed, hash: entryHash(unhashed) };
    entries.push(entry);
    prevHash = entry.hash;
  }
  return entries;
}

it('sends the whole batch as its JSON, for no entries, one, and more than a piece holds', async () => {
  const client = new HttpWalletClient({ url, storeKey: 'sk_test' });
  for (const length of [0, 1, 100, 101, 1_000]) {
    const batch = { storeId: 'store-1', batchId: `b-${length}`, entries: chain(length) };
    const answer = await client.uploadBatch(batch, AbortSignal.timeout(5_000));
    expect(answer.results).toHaveLength(length);
    const json = JSON.stringify(batch);
    expect(received.at(-1)).toEqual({
      body: json,
      authorization: 'Bearer sk_test',
      type: 'application/json',
      length: String(Buffer.byteLength(json)),
      chunked: undefined,
    });
  }
});

it('sends a batch encoded ahead the same way, and never the encoding of another batch', async () => {
  const client = new HttpWalletClient({ url, storeKey: 'sk_test' });
  const entries = chain(250);
  const batch = { storeId: 'store-1', batchId: 'b-ahead', entries };
  client.prepareBatch(batch);
  await client.uploadBatch(batch, AbortSignal.timeout(5_000));
  expect(received.at(-1)!.body).toBe(JSON.stringify(batch));
  // Prepared for one id, sent under another (or with other entries): encoded anew.
  client.prepareBatch(batch);
  const other = { ...batch, batchId: 'b-other' };
  await client.uploadBatch(other, AbortSignal.timeout(5_000));
  expect(received.at(-1)!.body).toBe(JSON.stringify(other));
  client.prepareBatch(batch);
  const fewer = { ...batch, entries: entries.slice(0, 10) };
  await client.uploadBatch(fewer, AbortSignal.timeout(5_000));
  expect(received.at(-1)!.body).toBe(JSON.stringify(fewer));
  // Used once: the next upload of the same batch is encoded anew and still the same bytes.
  await client.uploadBatch(batch, AbortSignal.timeout(5_000));
  expect(received.at(-1)!.body).toBe(JSON.stringify(batch));
});
