// The demo store on one machine: the sandbox wallet (port P+1), the gateway (port P), two lanes with one
// register and one simulated scanner each, and two customers whose phones are kept in DIR/phones. A simulated
// customer presents a fresh code whenever a lane waits for a scan, so a register's POST is paid end to end.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SimulatedScanner } from '../../drivers/simulated.js';
import { createStore, type RunningWallet, startWallet } from '../../wallet/server.js';
import { type DemoFile, writeDemoFile } from '../cli/demo-file.js';
import { enrollPhone, PhoneStore } from '../cli/phone-store.js';
import { parseConfig } from '../config.js';
import { type RunningGateway, startGateway } from '../gateway.js';
import { sha256Hex } from '../http/auth.js';

export const DEMO_STORE_ID = 'demo-store';
const DEMO_LANES = ['lane-1', 'lane-2'] as const;
const CUSTOMER_BALANCE = 100_000;
/** Demo phones count as enrolled a month ago, so offline acceptance treats them as established devices. */
const DEMO_DEVICE_AGE_SEC = 30 * 86_400;
/** Two customers pay for every checkout of the demo: the store default (5 per window) would stop it quickly. */
const DEMO_VELOCITY_MAX_PAYMENTS = 100;

export interface DemoOptions {
  dataDir: string;
  /** The gateway's port; the wallet listens on port + 1. 0 picks free ports (tests). */
  port: number;
  host?: string;
  logger: Logger;
  /** How long the simulated customer takes to show the phone; null turns the customer off. */
  customerDelayMs?: number | null;
  /** Payments one account may make within the velocity window (the demo's customers pay often). */
  velocityMaxPayments?: number;
}

export interface RunningDemo {
  gateway: RunningGateway;
  wallet: RunningWallet;
  file: DemoFile;
  demoFilePath: string;
  customers: { accountId: string; laneId: string }[];
  /** Shows the lane's customer's next code to the lane's scanner, as the simulated customer does. */
  presentCode(laneId: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.dataDir, { recursive: true });
  const wallet = await startWallet({
    dbPath: join(options.dataDir, 'wallet.sqlite'),
    host,
    port: options.port === 0 ? 0 : options.port + 1,
    logger: options.logger.child({ module: 'wallet' }),
  });
  try {
    return await startDemoGateway(options, host, wallet);
  } catch (error) {
    await wallet.close();
    throw error;
  }
}

async function startDemoGateway(
  options: DemoOptions,
  host: string,
  wallet: RunningWallet,
): Promise<RunningDemo> {
  const { storeKey } = createStore(wallet, DEMO_STORE_ID);
  const registers = DEMO_LANES.map((laneId, i) => ({
    id: `register-${i + 1}`,
    laneId,
    key: `rk_${randomBytes(24).toString('base64url')}`,
  }));
  const operatorKey = `op_${randomBytes(24).toString('base64url')}`;
  const config = parseConfig({
    storeId: DEMO_STORE_ID,
    dataDir: options.dataDir,
    http: { host, port: options.port },
    wallet: { url: wallet.url, storeKey },
    registers: registers.map((r) => ({ id: r.id, laneId: r.laneId, keySha256: sha256Hex(r.key) })),
    operators: [{ id: 'demo-operator', keySha256: sha256Hex(operatorKey) }],
    lanes: DEMO_LANES.map((id) => ({ id, scanners: [{ type: 'simulated', id: `scanner-${id}` }] })),
    offline: { velocity: { maxPayments: options.velocityMaxPayments ?? DEMO_VELOCITY_MAX_PAYMENTS } },
  });
  const phones = new PhoneStore(options.dataDir);
  const customersFile = join(options.dataDir, 'demo-customers.json');
  const customers: { accountId: string; laneId: string }[] = [];
  for (const laneId of DEMO_LANES) customers.push(await demoCustomer(wallet, phones, customersFile, laneId));
  const gateway = await startGateway(config, { logger: options.logger });

  const file: DemoFile = {
    gatewayUrl: gateway.url,
    walletUrl: wallet.url,
    storeId: DEMO_STORE_ID,
    sandboxAdminKey: wallet.adminKey,
    registers,
    operatorKey,
  };
  const demoFilePath = writeDemoFile(options.dataDir, file);

  const presentCode = async (laneId: string): Promise<boolean> => {
    const customer = customers.find((c) => c.laneId === laneId);
    const scanner = gateway.lanes.scanner(`scanner-${laneId}`) as SimulatedScanner | undefined;
    if (customer === undefined || scanner === undefined) return false;
    const code = phones.exclusive(customer.accountId, async () => nextCode(phones, customer.accountId));
    return scanner.scan(await code);
  };
  const stopCustomer = simulatedCustomer(gateway, presentCode, options.customerDelayMs ?? 1_500);

  return {
    gateway,
    wallet,
    file,
    demoFilePath,
    customers: customers.map(({ accountId, laneId }) => ({ accountId, laneId })),
    presentCode,
    async close() {
      stopCustomer();
      await gateway.close();
      await wallet.close();
    },
  };
}

/** The lane's customer: an account with money and an enrolled phone, both kept across demo restarts. */
async function demoCustomer(
  wallet: RunningWallet,
  phones: PhoneStore,
  customersFile: string,
  laneId: string,
): Promise<{ accountId: string; laneId: string }> {
  const known = readCustomers(customersFile)[laneId];
  if (known !== undefined && phones.load(known) !== null && (await accountExists(wallet, known))) {
    return { accountId: known, laneId };
  }
  const created = await adminCall(wallet, 'POST', '/v1/sandbox/accounts', {
    balance: CUSTOMER_BALANCE,
    currency: 'JPY',
  });
  const accountId = (created as { accountId: string }).accountId;
  const phone = await enrollPhone({ url: wallet.url, adminKey: wallet.adminKey }, accountId, {
    enrolledAt: Math.floor(Date.now() / 1000) - DEMO_DEVICE_AGE_SEC,
  });
  phones.save(phone);
  writeFileSync(
    customersFile,
    `${JSON.stringify({ ...readCustomers(customersFile), [laneId]: accountId }, null, 2)}\n`,
  );
  return { accountId, laneId };
}

function readCustomers(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

async function accountExists(wallet: RunningWallet, accountId: string): Promise<boolean> {
  const response = await fetch(`${wallet.url}/v1/sandbox/accounts/${accountId}`, {
    headers: { authorization: `Bearer ${wallet.adminKey}` },
  });
  await response.body?.cancel();
  return response.ok;
}

function nextCode(phones: PhoneStore, accountId: string): string {
  const state = phones.load(accountId);
  if (state === null) throw new Error(`the phone of ${accountId} is gone`);
  return phones.nextCode(state).code;
}

/** Whenever a lane starts waiting for a scan, its customer shows the phone after a moment. */
function simulatedCustomer(
  gateway: RunningGateway,
  presentCode: (laneId: string) => Promise<boolean>,
  delayMs: number | null,
): () => void {
  if (delayMs === null) return () => undefined;
  const timers = new Set<NodeJS.Timeout>();
  const onPayment = (payment: { state: string; laneId: string }): void => {
    if (payment.state !== 'awaiting_scan') return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void presentCode(payment.laneId).catch(() => undefined);
    }, delayMs);
    timers.add(timer);
  };
  gateway.service.on('payment', onPayment);
  return () => {
    gateway.service.off('payment', onPayment);
    for (const timer of timers) clearTimeout(timer);
  };
}

async function adminCall(
  wallet: RunningWallet,
  method: string,
  path: string,
  body: unknown,
): Promise<unknown> {
  const response = await fetch(wallet.url + path, {
    method,
    headers: { authorization: `Bearer ${wallet.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as unknown;
  if (!response.ok) throw new Error(`sandbox wallet ${method} ${path}: ${response.status}`);
  return json;
}
