// The composition root: opens the database, builds the wallet client, payment service, lanes and register API,
// and starts them in order; close() stops taking payments, finishes or fails in-flight ones, then closes the file.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ScannerDeps } from '../drivers/factory.js';
import { type SyncHandle, type SyncStatus, startSync } from '../sync/index.js';
import type { Config } from './config.js';
import { commitGroup } from './db/commit-group.js';
import { type Db, openDatabase } from './db/open.js';
import { createRegisterApp, type RegisterApp } from './http/app.js';
import { EventHub } from './http/events.js';
import { IdempotencyStore } from './http/idempotency.js';
import { Lanes } from './lanes.js';
import { Ledger } from './ledger/ledger.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import type { OfflineStatus } from './offline/acceptance.js';
import { IssuerKeyStore } from './payments/issuer-keys.js';
import type { PaymentState } from './payments/payment.js';
import { PaymentService } from './payments/service.js';
import { planReload, type ReloadPlan } from './reload.js';
import { HttpWalletClient } from './wallet-client/http-wallet-client.js';
import { observeWallet } from './wallet-client/observed-wallet-client.js';
import type { WalletClient } from './wallet-client/wallet-client.js';
import { WalletHealth } from './wallet-health.js';

export const DATABASE_FILE = 'gateway.sqlite';
const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;
const KEY_REFRESH_INTERVAL_MS = 5_000;
/** The states a payment enters once, when it is decided: what the payments counter counts. */
const DECISION_STATES: ReadonlySet<PaymentState> = new Set(['approved', 'declined', 'expired']);

export interface GatewayDeps {
  logger: Logger;
  /** The wallet as the gateway sees it; HTTP to `config.wallet.url` when absent. */
  wallet?: WalletClient;
  scanners?: Partial<Omit<ScannerDeps, 'logger'>>;
  /** Unix ms. */
  now?: () => number;
}

export interface RunningGateway {
  url: string;
  port: number;
  config: Config;
  db: Db;
  ledger: Ledger;
  service: PaymentService;
  lanes: Lanes;
  health: WalletHealth;
  hub: EventHub;
  metrics: GatewayMetrics;
  sync: SyncHandle;
  status(): GatewayStatus;
  /** Applies a changed config file (SIGHUP): register keys, operators, store key; throws ReloadRefused. */
  reload(next: Config): ReloadPlan;
  close(): Promise<void>;
}

export interface GatewayStatus {
  storeId: string;
  mode: 'online' | 'offline';
  modeSince: string;
  wallet: { reachable: boolean; lastContactAt: string | null };
  payments: { open: number };
  ledger: { headSeq: number };
  scanners: ReturnType<Lanes['views']>;
  accepting: boolean;
  offline: OfflineStatus;
  sync: SyncStatus;
}

export function databasePath(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, DATABASE_FILE);
}

export async function startGateway(config: Config, deps: GatewayDeps): Promise<RunningGateway> {
  const logger = deps.logger.child({ module: 'gateway', storeId: config.storeId });
  const now = deps.now ?? Date.now;
  const db = openDatabase(databasePath(config));
  try {
    return await assemble(config, deps, db, logger, now);
  } catch (error) {
    db.close();
    throw error;
  }
}

async function assemble(
  config: Config,
  deps: GatewayDeps,
  db: Db,
  logger: Logger,
  now: () => number,
): Promise<RunningGateway> {
  const health = new WalletHealth(config.wallet.healthWindowMs, now);
  const commits = commitGroup(db);
  const hub = new EventHub(() => commits.durable());
  let service: PaymentService | undefined;
  let lanes: Lanes | undefined;
  const metrics = createMetrics({
    openPayments: () => service?.repo.countOpen() ?? 0,
    walletReachable: () => health.mode === 'online',
    scannersByStatus: () => countBy(lanes?.views() ?? [], (v) => v.status),
    scanners: () => lanes?.views() ?? [],
    offlineExposure: () => {
      const offline = service?.offline.status(null);
      return { exposure: offline?.storeExposure ?? 0, storeLimit: offline?.limits.storeLimit ?? 0 };
    },
  });
  const baseWallet =
    deps.wallet ?? new HttpWalletClient({ url: config.wallet.url, storeKey: config.wallet.storeKey });
  const wallet = observeWallet(baseWallet, {
    contact: (reachable) => health.record(reachable),
    latency: metrics.wallet.latency,
  });
  const ledger = new Ledger(db);
  const keys = new IssuerKeyStore({
    db,
    wallet,
    logger,
    now,
    refreshIntervalMs: KEY_REFRESH_INTERVAL_MS,
    fetchTimeoutMs: config.wallet.timeoutMs,
  });
  service = new PaymentService({
    db,
    ledger,
    wallet,
    keys,
    settings: config,
    logger: deps.logger,
    health,
    now,
  });
  const idempotency = new IdempotencyStore(db);
  idempotency.startUp(now() - IDEMPOTENCY_RETENTION_MS);
  wireEvents(service, health, hub, metrics);
  const paymentService = service;
  // Made before anything calls the wallet: importing the drivers is the longest wait of a start, and the
  // wallet's first answers, which set the store's mode, should come after it rather than age during it.
  lanes = await Lanes.create(
    config.lanes,
    { ...deps.scanners, logger: deps.logger },
    {
      onScan: (laneId, scan) =>
        paymentService.onScan(laneId, {
          text: scan.text,
          deviceId: scan.deviceId,
          symbology: scan.symbology,
          receivedAt: scan.receivedAt,
        }),
      onStatus: (view) => hub.publish({ laneId: view.laneId, type: 'scanner', data: view }),
    },
  );
  const sync = startSync({
    db,
    wallet,
    storeId: config.storeId,
    config: config.sync,
    logger: deps.logger,
    registry: metrics.registry,
    onRefundSettled: (refundId, outcome) => paymentService.settleRefund(refundId, outcome),
    onFeedApplied: () => keys.invalidate(),
    now,
  });
  service.on('outbox', () => sync.notify());

  // Keys kept in SQLite serve at once; the wallet's current list arrives in the background, so a wallet that
  // is down never delays start-up (a code under an unknown kid triggers its own fetch).
  void keys.refresh({ force: true });
  service.recover();
  health.start();
  await lanes.open();

  let ready = false;
  const lanesRef = lanes;
  const status = (): GatewayStatus => {
    const view = health.view();
    return {
      storeId: config.storeId,
      mode: view.mode,
      modeSince: view.since,
      wallet: { reachable: view.reachable, lastContactAt: view.lastContactAt },
      payments: { open: paymentService.repo.countOpen() },
      ledger: { headSeq: ledger.head().seq },
      scanners: lanesRef.views(),
      accepting: paymentService.accepting,
      offline: paymentService.offline.status(view.mode === 'offline' ? view.since : null),
      sync: sync.status(),
    };
  };
  const api = createRegisterApp({
    service,
    idempotency,
    hub,
    config,
    status,
    ready: () => ready && paymentService.accepting,
    metrics: metrics.registry,
    logger: deps.logger.child({ module: 'http' }),
    now,
  });
  const server = await listen(api, config.http.host, config.http.port);
  ready = true;
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
  logger.info({ url, lanes: config.lanes.length, registers: config.registers.length }, 'gateway ready');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ready = false;
      logger.info('gateway stopping: no new payments');
      paymentService.stopAccepting();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await paymentService.drain(config.http.shutdownGraceMs);
      // The decisions just finished are answered once on disk: commit now and let those answers go out.
      commits.flush();
      await new Promise<void>((resolve) => setImmediate(resolve));
      api.sse.closeAll();
      server.closeAllConnections();
      await serverClosed;
      await lanesRef.close();
      await sync.stop();
      health.stop();
      commits.flush();
      db.close();
      logger.info('gateway stopped');
    })();
    return closing;
  };

  const reload = (next: Config): ReloadPlan => {
    const plan = planReload(config, next);
    api.reload(next);
    config.registers = next.registers;
    config.operators = next.operators;
    if (plan.applied.includes('wallet.storeKey')) {
      if (baseWallet instanceof HttpWalletClient) baseWallet.setStoreKey(next.wallet.storeKey);
      config.wallet.storeKey = next.wallet.storeKey;
    }
    logger.info(plan, 'configuration reloaded');
    return plan;
  };

  return { url, port, config, db, ledger, service, lanes, health, hub, metrics, sync, status, reload, close };
}

function wireEvents(
  service: PaymentService,
  health: WalletHealth,
  hub: EventHub,
  metrics: GatewayMetrics,
): void {
  service.on('payment', (payment) => {
    hub.publish({ laneId: payment.laneId, type: 'payment', data: payment });
    if (DECISION_STATES.has(payment.state)) metrics.paymentDecided(payment);
  });
  service.on('scan', (notice) => hub.publish({ laneId: notice.laneId, type: 'scan', data: notice }));
  health.on('mode', (change) => hub.publish({ laneId: null, type: 'mode', data: change }));
}

function listen(api: RegisterApp, host: string, port: number): Promise<Server> {
  const server = createServer(
    { requestTimeout: 60_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    api.app,
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
