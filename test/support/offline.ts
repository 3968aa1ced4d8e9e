// A store whose line to the wallet a test can cut (wallet-link.ts), with sync/ stopped so that only the test
// settles the ledger (syncNow runs sync/'s own worker), a clock the test owns, and small helpers to pay and look.
import pino from 'pino';
import type { ConfigInput } from '../../gateway/config.js';
import { FEED_REFRESHED_AT_KEY } from '../../gateway/offline/feed-source.js';
import type { BasketLine } from '../../gateway/payments/payment.js';
import { HttpWalletClient } from '../../gateway/wallet-client/http-wallet-client.js';
import { type RiskEvent, RiskFeedFollower } from '../../sync/risk-feed.js';
import { SyncWorker, type UploadSummary } from '../../sync/worker.js';
import { type Json, type Reply, type Stack, type StackOptions, startStack } from './stack.js';
import { WalletLink } from './wallet-link.js';

/**
 * The gateway's clock in a test: frozen (moves only when the test sets `ms`) or following real time from an offset.
 * Frozen suits exact bounds; a wait for the wallet's deadline needs time that passes.
 */
export class TestClock {
  #base: number;
  readonly #follow: boolean;

  /** Starts on a whole second, so that bounds in seconds can be hit exactly. */
  constructor(options: { follow?: boolean } = {}) {
    this.#follow = options.follow ?? false;
    const start = Math.floor(Date.now() / 1000) * 1000;
    this.#base = this.#follow ? start - Date.now() : start;
  }
  get ms(): number {
    return this.#follow ? Date.now() + this.#base : this.#base;
  }
  set ms(value: number) {
    this.#base = this.#follow ? value - Date.now() : value;
  }
  get sec(): number {
    return Math.floor(this.ms / 1000);
  }
  readonly now = (): number => this.ms;
}

/** Gateway config for the test; the wallet section may be partial (startStack supplies url and key). */
export type OfflineStackConfig = Partial<Omit<ConfigInput, 'wallet'>> & {
  wallet?: Partial<ConfigInput['wallet']>;
};

export interface OfflineStack {
  stack: Stack;
  link: WalletLink;
  clock: TestClock;
  pay(register: number, amount: number, payCode: string, basket?: BasketLine[]): Promise<Json>;
  /** Cuts the line to the wallet; a second passes (so the health signal sees a failure after the last contact). */
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
  /** Marks the risk feed refreshed at `ms` (the clock's now by default), as sync/'s follower does. */
  refreshFeed(ms?: number): void;
  /** One pass of sync/'s worker straight to the wallet: uploads the ledger, sends reversals. */
  syncNow(): Promise<UploadSummary>;
  /** One call of sync/'s risk-feed follower straight to the wallet: applies events, records the refresh. */
  pollFeed(): Promise<RiskEvent[]>;
  status(): Promise<Json>;
  /** Reversals queued for the payment's authorization id. */
  reversalsFor(paymentId: string): number;
  authorizationIdOf(paymentId: string): string;
  close(): Promise<void>;
}

export async function startOfflineStack(
  options: { config?: OfflineStackConfig; lanes?: number; refreshFeed?: boolean; realTime?: boolean } = {},
): Promise<OfflineStack> {
  const clock = new TestClock({ follow: options.realTime ?? false });
  let link: WalletLink | undefined;
  const stackOptions: StackOptions = {
    // startStack fills in the wallet's url and store key.
    config: { ...options.config, sync: { enabled: false, ...options.config?.sync } } as Partial<ConfigInput>,
    walletUrl: async (url) => {
      link = await WalletLink.open(url);
      return link.url;
    },
    now: clock.now,
  };
  if (options.lanes !== undefined) stackOptions.lanes = options.lanes;
  const stack = await startStack(stackOptions);
  const walletClient = new HttpWalletClient({ url: stack.wallet.url, storeKey: stack.storeKey });
  let orders = 0;
  // What sync/ is built from in the gateway, but talking to the wallet directly: the line's state is the test's.
  const syncDeps = () => ({
    db: stack.gateway.db,
    wallet: walletClient,
    storeId: stack.gateway.config.storeId,
    config: stack.gateway.config.sync,
    logger: pino({ level: 'silent' }),
    now: clock.now,
    random: Math.random,
  });
  const store: OfflineStack = {
    stack,
    link: link!,
    clock,
    async pay(register, amount, payCode, basket) {
      orders += 1;
      const body = {
        amount,
        currency: 'JPY',
        orderRef: `offline-${orders}`,
        payCode,
        ...(basket ? { basket } : {}),
      };
      const reply: Reply = await stack.api(register, 'POST', '/v1/payments', { body });
      if (reply.status !== 201) throw new Error(`payment: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body;
    },
    async goOffline() {
      await link!.cut();
      clock.ms += 1_000;
    },
    async goOnline() {
      await link!.restore();
      clock.ms += 1_000;
    },
    refreshFeed(ms = clock.ms) {
      stack.gateway.db
        .prepare(
          'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(FEED_REFRESHED_AT_KEY, String(ms));
    },
    syncNow() {
      return new SyncWorker(syncDeps()).pass(AbortSignal.timeout(10_000));
    },
    pollFeed() {
      return new RiskFeedFollower(syncDeps()).pollOnce(0, AbortSignal.timeout(10_000));
    },
    async status() {
      return (await stack.api(0, 'GET', '/v1/status')).body;
    },
    reversalsFor(paymentId) {
      return (
        stack.gateway.db
          .prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'reversal' AND authorization_id = ?")
          .get(store.authorizationIdOf(paymentId)) as { n: number }
      ).n;
    },
    authorizationIdOf(paymentId) {
      const id = stack.gateway.service.row(paymentId)?.authorization_id;
      if (id === null || id === undefined) throw new Error(`payment ${paymentId} has no authorization id`);
      return id;
    },
    async close() {
      await stack.close();
      await link!.close();
    },
  };
  if (options.refreshFeed ?? true) store.refreshFeed();
  return store;
}
