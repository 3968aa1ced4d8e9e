// Prometheus metrics of the gateway (prom-client), on one registry per gateway so tests can run several.
// Labels carry states, reasons, modes and operations only: never an id, a key or a code.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Payment } from './payments/payment.js';
import type { WalletObserver } from './wallet-client/observed-wallet-client.js';

export interface GatewayMetrics {
  registry: Registry;
  wallet: WalletObserver;
  paymentDecided(payment: Payment): void;
}

export function createMetrics(sources: {
  openPayments: () => number;
  walletReachable: () => boolean;
  scannersByStatus: () => Record<string, number>;
  /** Each configured scanner: lane and scanner ids come from the config, so the label set is bounded. */
  scanners?: () => { laneId: string; deviceId: string; transport: string; status: string }[];
  /** Unsynced offline approvals against the store cap, minor units. */
  offlineExposure?: () => { exposure: number; storeLimit: number };
}): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const payments = new Counter({
    name: 'tillgate_payments_total',
    help: 'Payments that reached a decision, by state, decline reason and mode.',
    labelNames: ['state', 'reason', 'mode'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'tillgate_wallet_call_seconds',
    help: 'Duration of calls to the wallet, by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'tillgate_open_payments',
    help: 'Payments awaiting a scan or authorizing.',
    registers: [registry],
    collect() {
      this.set(sources.openPayments());
    },
  });
  new Gauge({
    name: 'tillgate_wallet_reachable',
    help: '1 while the wallet answered within the health window.',
    registers: [registry],
    collect() {
      this.set(sources.walletReachable() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tillgate_scanners',
    help: 'Scanners by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, count] of Object.entries(sources.scannersByStatus())) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'tillgate_scanner_up',
    help: '1 while the scanner is attached, 0 while detached, opening or in error.',
    labelNames: ['lane', 'scanner', 'transport'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.scanners?.() ?? []) {
        this.set(
          { lane: s.laneId, scanner: s.deviceId, transport: s.transport },
          s.status === 'attached' ? 1 : 0,
        );
      }
    },
  });
  new Gauge({
    name: 'tillgate_offline_exposure_amount',
    help: 'Offline approvals not yet settled by the wallet, in minor units.',
    registers: [registry],
    collect() {
      this.set(sources.offlineExposure?.().exposure ?? 0);
    },
  });
  new Gauge({
    name: 'tillgate_offline_store_limit_amount',
    help: 'The store cap on unsynced offline approvals in force (config or risk feed), in minor units.',
    registers: [registry],
    collect() {
      this.set(sources.offlineExposure?.().storeLimit ?? 0);
    },
  });
  return {
    registry,
    wallet: {
      contact: () => undefined,
      latency: (operation, seconds, outcome) => latency.observe({ operation, outcome }, seconds),
    },
    paymentDecided(payment) {
      payments.inc({
        state: payment.state,
        reason: payment.decision?.reason ?? 'none',
        mode: payment.mode ?? 'none',
      });
    },
  };
}
