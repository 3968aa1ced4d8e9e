// Test support for the wallet's own tests: a wallet on a real SQLite file in a temp dir, a settable clock,
// captured log lines, and fetch helpers that send the admin or store key. No test framework imports here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { type EnrollOptions, SandboxPhone } from './sandbox-phone.js';
import { createStore, type RunningWallet, startWallet, type WalletOptions } from './server.js';

/** 2026-01-01T00:00:00Z, the time of the public pay-code vectors. */
export const TEST_NOW = 1_767_225_600;

// biome-ignore lint/suspicious/noExplicitAny: test replies are read field by field
export type Json = any;

export interface Reply {
  status: number;
  body: Json;
}

export interface TestWallet {
  wallet: RunningWallet;
  dir: string;
  dbPath: string;
  clock: { now: number };
  logs: string[];
  storeId: string;
  storeKey: string;
  call(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; rawBody?: string; signal?: AbortSignal },
  ): Promise<Reply>;
  admin(method: string, path: string, body?: unknown): Promise<Reply>;
  store(method: string, path: string, body?: unknown): Promise<Reply>;
  account(balance: number, currency?: string): Promise<string>;
  balance(accountId: string): Promise<number>;
  phone(accountId: string, options?: EnrollOptions): Promise<SandboxPhone>;
  restart(overrides?: Partial<WalletOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function startTestWallet(overrides: Partial<WalletOptions> = {}): Promise<TestWallet> {
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-wallet-'));
  const dbPath = join(dir, 'wallet.sqlite');
  const clock = { now: TEST_NOW };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  // No redaction here: the log test must see whatever the wallet writes.
  const logger = pino({ level: 'debug' }, sink);
  const options = (): WalletOptions => ({ dbPath, clock: () => clock.now, logger, ...overrides });
  let wallet = await startWallet(options());
  const { storeId, storeKey } = createStore(wallet, 'store-1');

  const call: TestWallet['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(wallet.url + path, { method, headers, body, signal: opts.signal });
    const text = await response.text();
    return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined };
  };
  const tw: TestWallet = {
    get wallet() {
      return wallet;
    },
    dir,
    dbPath,
    clock,
    logs,
    storeId,
    storeKey,
    call,
    admin: (method, path, body) => call(method, path, { key: wallet.adminKey, body }),
    store: (method, path, body) => call(method, path, { key: storeKey, body }),
    async account(balance, currency = 'JPY') {
      const reply = await tw.admin('POST', '/v1/sandbox/accounts', { balance, currency });
      if (reply.status !== 200) throw new Error(`account: ${reply.status}`);
      return reply.body.accountId as string;
    },
    async balance(accountId) {
      return (await tw.admin('GET', `/v1/sandbox/accounts/${accountId}`)).body.balance as number;
    },
    phone: (accountId, enrollOptions) =>
      SandboxPhone.enroll(wallet.url, wallet.adminKey, accountId, enrollOptions),
    async restart(restartOverrides = {}) {
      await wallet.close();
      wallet = await startWallet({ ...options(), ...restartOverrides });
    },
    async close() {
      await wallet.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return tw;
}

let authorizationSeq = 0;

/** A fresh authorization id for a test. */
export function newAuthorizationId(): string {
  authorizationSeq += 1;
  return `auth-${process.pid}-${authorizationSeq}-${Math.random().toString(36).slice(2, 8)}`;
}

export function authorizationBody(
  tw: TestWallet,
  payCode: string,
  amount: number,
  id = newAuthorizationId(),
) {
  return {
    id,
    storeId: tw.storeId,
    laneId: 'lane-1',
    payCode,
    amount,
    currency: 'JPY',
    createdAt: tw.clock.now,
  };
}
