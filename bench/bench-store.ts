// A store for the benchmarks, built from the real parts: the sandbox wallet as its own process (`tillgate wallet`),
// accounts and enrolled phones made through its admin API, pay codes made in advance (rising counters, devices
// interleaved), and a gateway config file for `tillgate start` whose limits do not stop a throughput run.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import type { ConfigInput } from '../gateway/config.js';
import { openDatabase } from '../gateway/db/open.js';
import { databasePath } from '../gateway/gateway.js';
import { sha256Hex } from '../gateway/http/auth.js';
import { HttpWalletClient } from '../gateway/wallet-client/http-wallet-client.js';
import { RiskFeedFollower } from '../sync/risk-feed.js';
import { SandboxPhone } from '../wallet/sandbox-phone.js';
import { type BenchChild, cpuTimeMs, firstJsonLine, spawnNode, waitUntilOk } from './children.js';

export const CURRENCY = 'JPY';
const DAY_SEC = 86_400;

export interface WalletProcess {
  child: BenchChild;
  url: string;
  adminKey: string;
}

/** `tillgate wallet --port 0 --data DIR --json`: the sandbox wallet in its own process. */
export async function startWalletProcess(dir: string): Promise<WalletProcess> {
  const child = spawnNode(
    'wallet',
    'bin/tillgate.js',
    ['wallet', '--port', '0', '--data', join(dir, 'wallet'), '--json'],
    { logFile: join(dir, 'wallet.log'), pipeStdout: true },
  );
  const started = await firstJsonLine<{ walletUrl: string; sandboxAdminKey: string }>(child, 30_000);
  return { child, url: started.walletUrl, adminKey: started.sandboxAdminKey };
}

/** The wallet's sandbox admin API (CONTRACT §3.5). */
export class SandboxAdmin {
  constructor(
    readonly url: string,
    readonly adminKey: string,
  ) {}

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  /** A store and its key (sandbox: shown once, used only by this run's gateway). */
  createStore(storeId: string): Promise<{ storeId: string; storeKey: string }> {
    return this.post('/v1/sandbox/stores', { storeId });
  }

  async createAccount(balance: number): Promise<string> {
    return (await this.post<{ accountId: string }>('/v1/sandbox/accounts', { balance, currency: CURRENCY }))
      .accountId;
  }

  freeze(accountId: string): Promise<unknown> {
    return this.post(`/v1/sandbox/accounts/${accountId}/freeze`);
  }
}

export interface PhoneOptions {
  balance: number;
  /** The certificate's offline limit, minor units. */
  offlineLimit: number;
  /** Enrolled this long ago (offline acceptance refuses devices younger than offline.deviceMinAgeSec). */
  enrolledAgoSec?: number;
}

/** `count` accounts with one enrolled phone each, made `parallel` at a time. */
export async function enrollPhones(
  admin: SandboxAdmin,
  count: number,
  options: PhoneOptions,
  parallel = 8,
): Promise<SandboxPhone[]> {
  const phones: SandboxPhone[] = new Array(count);
  const enrolledAt = Math.floor(Date.now() / 1000) - (options.enrolledAgoSec ?? 2 * DAY_SEC);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const accountId = await admin.createAccount(options.balance);
      phones[index] = await SandboxPhone.enroll(admin.url, admin.adminKey, accountId, {
        enrolledAt,
        offlineLimit: options.offlineLimit,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return phones;
}

/** The next `n` codes, one phone after another, so a device's codes are far apart and arrive in counter order. */
export function makeCodes(phones: readonly SandboxPhone[], n: number, issuedAt: number): string[] {
  const codes: string[] = new Array(n);
  for (let i = 0; i < n; i++) codes[i] = phones[i % phones.length]!.nextCode(issuedAt);
  return codes;
}

export interface RegisterCredentials {
  id: string;
  laneId: string;
  /** A register key made for this run. */
  key: string;
}

export interface GatewaySetup {
  file: string;
  dataDir: string;
  url: string;
  port: number;
  registers: RegisterCredentials[];
}

/** Offline limits and velocity raised so that a throughput run is never stopped by them (CONTRACT §4 bounds). */
export const THROUGHPUT_LIMITS: NonNullable<ConfigInput['offline']> = {
  perTransactionLimit: 5_000,
  perDeviceLimit: 1_000_000_000,
  consecutiveMax: 1000,
  storeLimit: 1_000_000_000_000,
  velocity: { maxPayments: 10_000, maxLanes: 256 },
};

/** Writes DIR/gateway.json for `tillgate start`: one register per lane, no scanners unless given. */
export async function writeGatewayConfig(
  dir: string,
  options: {
    storeId: string;
    walletUrl: string;
    storeKey: string;
    lanes: number;
    extra?: Partial<ConfigInput>;
  },
): Promise<GatewaySetup> {
  const port = await freePort();
  const registers: RegisterCredentials[] = Array.from({ length: options.lanes }, (_, i) => ({
    id: `register-${i + 1}`,
    laneId: `lane-${i + 1}`,
    key: `rk_${randomBytes(24).toString('base64url')}`,
  }));
  const dataDir = join(dir, 'gateway');
  const config: ConfigInput = {
    storeId: options.storeId,
    dataDir,
    http: { host: '127.0.0.1', port },
    wallet: { url: options.walletUrl, storeKey: options.storeKey },
    registers: registers.map((r) => ({ id: r.id, laneId: r.laneId, keySha256: sha256Hex(r.key) })),
    lanes: registers.map((r) => ({ id: r.laneId })),
    ...options.extra,
  };
  const file = join(dir, 'gateway.json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { file, dataDir, url: `http://127.0.0.1:${port}`, port, registers };
}

/** `tillgate start --config FILE`; resolves once /readyz answers 200. */
export async function startGatewayProcess(
  dir: string,
  setup: GatewaySetup,
  options: { name?: string; nodeArgs?: string[] } = {},
): Promise<{ child: BenchChild; readyMs: number; cpuMsAtReady: number }> {
  const name = options.name ?? 'gateway';
  const since = performance.now();
  const child = spawnNode(name, 'bin/tillgate.js', ['start', '--config', setup.file], {
    logFile: join(dir, `${name}.log`),
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
  });
  const readyMs = await waitUntilOk(`${setup.url}/readyz`, child, { since, timeoutMs: 60_000, pollMs: 5 });
  return { child, readyMs, cpuMsAtReady: cpuTimeMs(child.process.pid!) };
}

/** A loopback port nobody listens on (bound, then closed): a wallet that is down refuses connections there. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Before the gateway starts: one risk-feed call by the real follower into the gateway's database, as a store that
 * was online earlier has had — issuer keys, deny-lists and a fresh refresh time, which offline acceptance needs.
 */
export async function refreshFeedOnce(
  dataDir: string,
  wallet: { url: string; storeId: string; storeKey: string },
): Promise<void> {
  const db = openDatabase(databasePath({ dataDir }));
  try {
    const follower = new RiskFeedFollower({
      db,
      wallet: new HttpWalletClient({ url: wallet.url, storeKey: wallet.storeKey }),
      storeId: wallet.storeId,
      config: {
        feedWaitMs: 0,
        feedPollIntervalMs: 1_000,
        feedLongPollRetryMs: 60_000,
        callTimeoutMs: 10_000,
        retryInitialDelayMs: 250,
        retryMaxDelayMs: 1_000,
        feedEventsPerPageMax: 1_000,
      },
      logger: pino({ level: 'silent' }),
      now: Date.now,
      random: Math.random,
    });
    await follower.pollOnce(0);
  } finally {
    db.close();
  }
}
