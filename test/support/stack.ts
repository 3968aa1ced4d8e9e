// A whole store on loopback for cross-module tests: the sandbox wallet and the gateway as separate HTTP servers,
// each on its own SQLite file in a temp dir, simulated scanners on each lane, and the gateway's log lines captured
// through the production logger (with its redaction) so tests can grep them for secrets.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { SimulatedScanner } from '../../drivers/simulated.js';
import { type Config, type ConfigInput, parseConfig } from '../../gateway/config.js';
import { type RunningGateway, startGateway } from '../../gateway/gateway.js';
import { sha256Hex } from '../../gateway/http/auth.js';
import { createLogger } from '../../gateway/log.js';
import { type EnrollOptions, SandboxPhone } from '../../wallet/sandbox-phone.js';
import { createStore, type RunningWallet, startWallet } from '../../wallet/server.js';

// biome-ignore lint/suspicious/noExplicitAny: replies are read field by field in tests
export type Json = any;

export interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

export interface RegisterCredentials {
  id: string;
  laneId: string;
  key: string;
}

export interface StackOptions {
  lanes?: number;
  /** Deep-merged over the generated gateway config. */
  config?: Partial<ConfigInput>;
  /** The wallet URL the gateway is given, from the wallet's own (e.g. a link the test can cut: wallet-link.ts). */
  walletUrl?: (url: string) => string | Promise<string>;
  /**
   * The gateway's clock, unix ms; the wallet keeps the same time (in seconds), so that codes stamped with it are
   * never older or newer at the wallet than at the gateway, however far a test moves it.
   */
  now?: () => number;
}

export interface Stack {
  dir: string;
  wallet: RunningWallet;
  gateway: RunningGateway;
  storeKey: string;
  registers: RegisterCredentials[];
  /** Every line the gateway logged, as written. */
  logs: string[];
  walletLogs: string[];
  api(
    register: number,
    method: string,
    path: string,
    options?: { body?: unknown; rawBody?: string; headers?: Record<string, string>; key?: string | null },
  ): Promise<Reply>;
  admin(method: string, path: string, body?: unknown): Promise<Reply>;
  account(balance: number): Promise<string>;
  balance(accountId: string): Promise<number>;
  phone(accountId: string, options?: EnrollOptions): Promise<SandboxPhone>;
  scanner(laneId: string): SimulatedScanner;
  restartGateway(): Promise<void>;
  close(): Promise<void>;
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function walletClock(now: () => number): () => number {
  return () => Math.floor(now() / 1000);
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-stack-'));
  const walletLogs: string[] = [];
  const wallet = await startWallet({
    dbPath: join(dir, 'wallet.sqlite'),
    port: 0,
    logger: createLogger({ level: 'debug', destination: sink(walletLogs), name: 'wallet' }),
    ...(options.now === undefined ? {} : { clock: walletClock(options.now) }),
  });
  const { storeId, storeKey } = createStore(wallet, 'store-1');
  const laneCount = options.lanes ?? 2;
  const registers: RegisterCredentials[] = Array.from({ length: laneCount }, (_, i) => ({
    id: `register-${i + 1}`,
    laneId: `lane-${i + 1}`,
    key: `rk_${randomBytes(24).toString('base64url')}`,
  }));
  const config = parseConfig({
    storeId,
    dataDir: join(dir, 'gateway'),
    http: { host: '127.0.0.1', port: 0, ...options.config?.http },
    wallet: {
      url: options.walletUrl === undefined ? wallet.url : await options.walletUrl(wallet.url),
      storeKey,
      timeoutMs: 1_500,
      queryIntervalMs: 100,
      ...options.config?.wallet,
    },
    registers: registers.map((r) => ({ id: r.id, laneId: r.laneId, keySha256: sha256Hex(r.key) })),
    lanes: registers.map((r) => ({
      id: r.laneId,
      scanners: [{ type: 'simulated', id: `scanner-${r.laneId}` }],
    })),
    ...omit(options.config ?? {}, ['http', 'wallet']),
  } satisfies ConfigInput);
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: sink(logs) });
  const deps = { logger, ...(options.now === undefined ? {} : { now: options.now }) };
  let gateway = await startGateway(config, deps);

  const stack: Stack = {
    dir,
    wallet,
    storeKey,
    registers,
    logs,
    walletLogs,
    get gateway() {
      return gateway;
    },
    async api(register, method, path, call = {}) {
      const headers: Record<string, string> = { ...call.headers };
      const key = call.key === undefined ? registers[register]!.key : call.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body = call.rawBody;
      if (call.body !== undefined) body = JSON.stringify(call.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      return reply(await fetch(gateway.url + path, { method, headers, body }));
    },
    async admin(method, path, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${wallet.adminKey}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      return reply(
        await fetch(wallet.url + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    },
    async account(balance) {
      const created = await stack.admin('POST', '/v1/sandbox/accounts', { balance, currency: 'JPY' });
      if (created.status !== 200) throw new Error(`account: ${created.status}`);
      return created.body.accountId as string;
    },
    async balance(accountId) {
      return (await stack.admin('GET', `/v1/sandbox/accounts/${accountId}`)).body.balance as number;
    },
    phone: (accountId, enroll = {}) =>
      SandboxPhone.enroll(wallet.url, wallet.adminKey, accountId, {
        enrolledAt: nowSec() - 30 * 86_400,
        ...enroll,
      }),
    scanner(laneId) {
      const scanner = gateway.lanes.scanner(`scanner-${laneId}`);
      if (scanner === undefined) throw new Error(`no scanner on ${laneId}`);
      return scanner as SimulatedScanner;
    },
    async restartGateway() {
      await gateway.close();
      gateway = await startGateway(config, deps);
    },
    async close() {
      await gateway.close();
      await wallet.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

export function gatewayConfigOf(stack: Stack): Config {
  return stack.gateway.config;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let body: Json;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, body, headers: response.headers };
}

function sink(lines: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
}

function omit<T extends object>(value: T, keys: string[]): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k))) as Partial<T>;
}
