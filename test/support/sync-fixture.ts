// A gateway database and a sandbox wallet for sync/ tests: a real SQLite file in a temp dir, the wallet over loopback,
// ledger entries appended as the payments side does (Ledger.append + outbox row in one transaction) for real
// enrolled phones, so the wallet settles or rejects them for its own reasons. Logs go through the production logger.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { type ConfigInput, parseConfig } from '../../gateway/config.js';
import { type Db, openDatabase } from '../../gateway/db/open.js';
import type { LedgerEntry } from '../../gateway/ledger/chain.js';
import { Ledger, type NewEntry } from '../../gateway/ledger/ledger.js';
import { createLogger } from '../../gateway/log.js';
import { HttpWalletClient } from '../../gateway/wallet-client/http-wallet-client.js';
import type { WalletClient } from '../../gateway/wallet-client/wallet-client.js';
import { type SyncConfig, SyncConfigSchema } from '../../sync/config.js';
import type { StartSyncOptions } from '../../sync/index.js';
import type { SandboxPhone } from '../../wallet/sandbox-phone.js';
import {
  authorizationBody,
  type Json,
  startTestWallet,
  TEST_NOW,
  type TestWallet,
} from '../../wallet/test-harness.js';

export type { Json };

/** Fast retries and short deadlines, so fault tests finish in seconds. */
export const FAST_SYNC: Partial<SyncConfig> = {
  batchEntriesMax: 4,
  retryInitialDelayMs: 20,
  retryMaxDelayMs: 200,
  callTimeoutMs: 1_000,
  feedWaitMs: 5_000,
  feedPollIntervalMs: 100,
  idleIntervalMs: 50,
  leaseTtlMs: 5_000,
};

export interface Customer {
  accountId: string;
  phone: SandboxPhone;
}

export interface SyncFixture {
  tw: TestWallet;
  dir: string;
  dbFile: string;
  db: Db;
  ledger: Ledger;
  wallet: HttpWalletClient;
  config: SyncConfig;
  logger: Logger;
  /** Every line the gateway side logged. */
  logs: string[];
  customer(balance: number): Promise<Customer>;
  /** An offline approval with the phone's next counter, as the payments side would record it. */
  offline(customer: Customer, amount: number): LedgerEntry;
  /** An online approval: authorized at the wallet first, then recorded. */
  online(customer: Customer, amount: number): Promise<LedgerEntry>;
  /** A void of an earlier approval. */
  voidOf(entry: LedgerEntry): LedgerEntry;
  enqueueCall(row: {
    kind: 'reversal' | 'refund';
    authorizationId: string;
    refundId?: string;
    amount?: number;
  }): void;
  outbox(): { kind: string; ledger_seq: number | null; status: string; result_reason: string | null }[];
  settledAtWallet(): Promise<Json[]>;
  /** What startSync needs for this database and wallet; refunds settle into nothing unless overridden. */
  syncOptions(overrides?: Partial<StartSyncOptions>): StartSyncOptions;
  /** A gateway configuration file for `tillgate sync --config`, pointing at this database and wallet. */
  writeConfigFile(sync?: Partial<SyncConfig>, walletUrl?: string): string;
  close(): Promise<void>;
}

export async function startSyncFixture(sync: Partial<SyncConfig> = {}): Promise<SyncFixture> {
  const tw = await startTestWallet();
  const dir = tw.dir;
  const dbFile = join(dir, 'gateway', 'gateway.sqlite');
  const db = openDatabase(dbFile);
  const ledger = new Ledger(db);
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: sink(logs) });
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (kind, ledger_seq, authorization_id, refund_id, amount, created_at)
     VALUES (@kind, @ledgerSeq, @authorizationId, @refundId, @amount, @createdAt)`,
  );
  let paymentNo = 0;
  const record = (fields: Omit<NewEntry, 'entryId' | 'currency' | 'laneId' | 'registerId' | 'occurredAt'>) =>
    db.transaction(() => {
      const entry = ledger.append({
        entryId: `entry-${fields.type}-${fields.authorizationId}`,
        currency: 'JPY',
        laneId: 'lane-1',
        registerId: 'register-1',
        occurredAt: new Date().toISOString(),
        ...fields,
      });
      insertOutbox.run({
        kind: 'ledger_entry',
        ledgerSeq: entry.seq,
        authorizationId: null,
        refundId: null,
        amount: null,
        createdAt: Date.now(),
      });
      return entry;
    })();
  const fixture: SyncFixture = {
    tw,
    dir,
    dbFile,
    db,
    ledger,
    wallet: new HttpWalletClient({ url: tw.wallet.url, storeKey: tw.storeKey }),
    config: SyncConfigSchema.parse({ ...FAST_SYNC, ...sync }),
    logger,
    logs,
    async customer(balance) {
      const accountId = await tw.account(balance);
      return { accountId, phone: await tw.phone(accountId, { enrolledAt: TEST_NOW - 30 * 86_400 }) };
    },
    offline(customer, amount) {
      customer.phone.nextCode(TEST_NOW);
      paymentNo += 1;
      return record({
        type: 'authorization',
        mode: 'offline',
        paymentId: `pay-off-${paymentNo}`,
        authorizationId: `auth-off-${process.pid}-${paymentNo}`,
        amount,
        accountId: customer.accountId,
        deviceId: customer.phone.deviceId,
        counter: customer.phone.lastCounter,
      });
    },
    async online(customer, amount) {
      paymentNo += 1;
      const id = `auth-on-${process.pid}-${paymentNo}`;
      const reply = await tw.store(
        'POST',
        '/v1/authorizations',
        authorizationBody(tw, customer.phone.nextCode(TEST_NOW), amount, id),
      );
      if (reply.body.status !== 'approved')
        throw new Error(`online authorization: ${JSON.stringify(reply.body)}`);
      return record({
        type: 'authorization',
        mode: 'online',
        paymentId: `pay-on-${paymentNo}`,
        authorizationId: id,
        amount,
        accountId: customer.accountId,
        deviceId: customer.phone.deviceId,
        counter: customer.phone.lastCounter,
      });
    },
    voidOf(entry) {
      const { seq: _s, prevHash: _p, hash: _h, entryId: _e, occurredAt: _o, ...fields } = entry;
      return record({ ...fields, type: 'void' });
    },
    enqueueCall(row) {
      insertOutbox.run({
        kind: row.kind,
        ledgerSeq: null,
        authorizationId: row.authorizationId,
        refundId: row.refundId ?? null,
        amount: row.amount ?? null,
        createdAt: Date.now(),
      });
    },
    outbox: () =>
      db
        .prepare('SELECT kind, ledger_seq, status, result_reason FROM outbox ORDER BY id')
        .all() as ReturnType<SyncFixture['outbox']>,
    async settledAtWallet() {
      return (await tw.admin('GET', `/v1/sandbox/stores/${tw.storeId}/settled`)).body.entries;
    },
    syncOptions: (overrides = {}) => ({
      db,
      wallet: fixture.wallet,
      storeId: tw.storeId,
      config: fixture.config,
      logger,
      onRefundSettled: () => undefined,
      ...overrides,
    }),
    writeConfigFile(overrides = {}, walletUrl = tw.wallet.url) {
      const file = join(dir, 'gateway.json');
      const config: ConfigInput = {
        storeId: tw.storeId,
        dataDir: join(dir, 'gateway'),
        wallet: { url: walletUrl, storeKey: tw.storeKey },
        registers: [{ id: 'register-1', laneId: 'lane-1', keySha256: 'a'.repeat(64) }],
        lanes: [{ id: 'lane-1' }],
        log: { level: 'warn' },
        sync: { ...FAST_SYNC, ...overrides },
      };
      parseConfig(config);
      writeFileSync(file, JSON.stringify(config, null, 2));
      return file;
    },
    async close() {
      db.close();
      await tw.close();
    },
  };
  return fixture;
}

export function sink(lines: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns how long it took. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const startedAt = performance.now();
  while (!(await check())) {
    if (performance.now() - startedAt > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - startedAt;
}

/** The real client with some calls wrapped (to record them, or to lose an answer); the rest go straight through. */
export function wrapWallet(wallet: WalletClient, overrides: Partial<WalletClient>): WalletClient {
  return {
    authorize: (request, signal) => wallet.authorize(request, signal),
    getAuthorization: (id, signal) => wallet.getAuthorization(id, signal),
    reverse: (id, signal) => wallet.reverse(id, signal),
    refund: (request, signal) => wallet.refund(request, signal),
    issuerKeys: (signal) => wallet.issuerKeys(signal),
    uploadBatch: (batch, signal) => wallet.uploadBatch(batch, signal),
    riskFeed: (storeId, cursor, waitMs, signal) => wallet.riskFeed(storeId, cursor, waitMs, signal),
    ...overrides,
  };
}
