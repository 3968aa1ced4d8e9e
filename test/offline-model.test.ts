// Model-based test of offline acceptance (fast-check): random sequences of online and offline payments, replayed
// codes, restarts, risk-feed events (refresh, staleness, limit changes, freezes) and sync acknowledgements run
// against a real store — sandbox wallet and gateway on loopback, SQLite files, the line cut by a relay — and
// against a small reference model of CONTRACT §4 written here from the contract, not from the gateway's code.
// After every step: the decision is the model's, exposure and consecutive counts agree, no code is approved twice.
// At the end, after a last sync: the wallet's balances, the store's losses and the ledger's totals equal the model's.
// Runs: TILLGATE_PROPERTY_RUNS (default 10); seed: TILLGATE_SEED (default random; a failure prints seed and path);
// TILLGATE_PROPERTY_SHRINK=1 shrinks a failure to a minimal sequence (slow: every try starts a store).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SandboxPhone } from '../wallet/sandbox-phone.js';
import { type OfflineStack, startOfflineStack } from './support/offline.js';
import type { Json } from './support/stack.js';

const RUNS = Number(process.env.TILLGATE_PROPERTY_RUNS ?? 10);
const SEED = process.env.TILLGATE_SEED === undefined ? undefined : Number(process.env.TILLGATE_SEED);
const SHRINK = process.env.TILLGATE_PROPERTY_SHRINK === '1';
const LANES = 3;

interface Limits {
  perTransactionLimit: number;
  perDeviceLimit: number;
  consecutiveMax: number;
  storeLimit: number;
}

const BASE_LIMITS: Limits = {
  perTransactionLimit: 5_000,
  perDeviceLimit: 8_000,
  consecutiveMax: 3,
  storeLimit: 15_000,
};
const VELOCITY = { windowSec: 3_600, maxPayments: 10, maxLanes: 2 };
const FEED_MAX_AGE_SEC = 86_400;
const DEVICE_MIN_AGE_SEC = 86_400;

/** Three customers: an ordinary one, one whose certificate allows less offline, one with a new phone. */
/** The first can spend offline more than it has, so that some uploads are rejected (the store's losses). */
const CUSTOMERS = [
  { balance: 7_000, offlineLimit: 10_000, enrolledAgoSec: 30 * 86_400 },
  { balance: 30_000, offlineLimit: 4_000, enrolledAgoSec: 30 * 86_400 },
  { balance: 20_000, offlineLimit: 10_000, enrolledAgoSec: 3_600 },
];

type FeedEvent =
  | { type: 'refresh' }
  | { type: 'stale' }
  | { type: 'limits'; limits: Partial<Limits> }
  | { type: 'freeze' | 'unfreeze'; customer: number };

type Command =
  | { kind: 'pay'; customer: number; amount: number; lane: number; restricted: boolean }
  | { kind: 'replay'; customer: number; lane: number }
  /** Several small payments in a row by one customer at one lane: runs into the per-device and consecutive bounds. */
  | { kind: 'burst'; customer: number; amount: number; lane: number; count: number }
  | { kind: 'offline' }
  | { kind: 'online' }
  | { kind: 'restart' }
  | { kind: 'sync' }
  | { kind: 'feed'; event: FeedEvent };

interface Outcome {
  state: 'approved' | 'declined';
  mode?: 'online' | 'offline';
  reason?: string;
}

interface Approval {
  customer: number;
  lane: number;
  mode: 'online' | 'offline';
  amount: number;
  sync: 'pending' | 'settled' | 'rejected';
}

/** The reference model: what the contract says should happen, kept as plain lists and sums. */
class Model {
  online = true;
  feedFresh = true;
  limits: Limits = { ...BASE_LIMITS };
  readonly balance = CUSTOMERS.map((c) => c.balance);
  readonly frozen = CUSTOMERS.map(() => false);
  /** The highest counter the gateway accepted per customer's phone. */
  readonly seenCounter = CUSTOMERS.map(() => 0);
  readonly approvals: Approval[] = [];
  rejectedTotal = 0;

  pay(customer: number, counter: number, amount: number, lane: number, restricted: boolean): Outcome {
    if (counter <= this.seenCounter[customer]!) return { state: 'declined', reason: 'code_replayed' };
    if (this.frozen[customer]) return { state: 'declined', reason: 'account_frozen' };
    const paying = this.approvals.filter((a) => a.customer === customer);
    const lanes = new Set([...paying.map((a) => a.lane), lane]);
    if (paying.length + 1 > VELOCITY.maxPayments || lanes.size > VELOCITY.maxLanes) {
      return { state: 'declined', reason: 'velocity_exceeded' };
    }
    this.seenCounter[customer] = counter;
    return this.online
      ? this.#online(customer, amount, lane)
      : this.#offline(customer, amount, lane, restricted);
  }

  #online(customer: number, amount: number, lane: number): Outcome {
    if (this.balance[customer]! < amount)
      return { state: 'declined', mode: 'online', reason: 'insufficient_funds' };
    this.balance[customer]! -= amount;
    this.approvals.push({ customer, lane, mode: 'online', amount, sync: 'pending' });
    return { state: 'approved', mode: 'online' };
  }

  #offline(customer: number, amount: number, lane: number, restricted: boolean): Outcome {
    const reason = this.#offlineRefusal(customer, amount, restricted);
    if (reason !== null) return { state: 'declined', mode: 'offline', reason };
    this.approvals.push({ customer, lane, mode: 'offline', amount, sync: 'pending' });
    return { state: 'approved', mode: 'offline' };
  }

  #offlineRefusal(customer: number, amount: number, restricted: boolean): string | null {
    const { offlineLimit, enrolledAgoSec } = CUSTOMERS[customer]!;
    if (!this.feedFresh) return 'offline_stale';
    if (restricted) return 'restricted_category_offline';
    if (enrolledAgoSec < DEVICE_MIN_AGE_SEC) return 'new_device_offline';
    const over =
      amount > this.limits.perTransactionLimit ||
      this.deviceExposure(customer) + amount > Math.min(offlineLimit, this.limits.perDeviceLimit) ||
      this.consecutive(customer) >= this.limits.consecutiveMax ||
      this.storeExposure() + amount > this.limits.storeLimit;
    return over ? 'offline_limit_exceeded' : null;
  }

  /** What the wallet does with the uploaded ledger, in order: offline approvals are charged now, or rejected. */
  sync(): void {
    for (const a of this.approvals.filter((x) => x.sync === 'pending')) {
      if (a.mode === 'online') a.sync = 'settled';
      else if (this.frozen[a.customer] || this.balance[a.customer]! < a.amount) {
        a.sync = 'rejected';
        this.rejectedTotal += a.amount;
      } else {
        a.sync = 'settled';
        this.balance[a.customer]! -= a.amount;
      }
    }
  }

  deviceExposure(customer: number): number {
    return this.#sum(
      this.approvals.filter((a) => a.customer === customer && a.mode === 'offline' && a.sync === 'pending'),
    );
  }

  storeExposure(): number {
    return this.#sum(this.approvals.filter((a) => a.mode === 'offline' && a.sync === 'pending'));
  }

  /** Offline approvals since the last online one or the last settled one. */
  consecutive(customer: number): number {
    let count = 0;
    for (const a of this.approvals.filter((x) => x.customer === customer)) {
      count = a.mode === 'online' || a.sync === 'settled' ? 0 : count + 1;
    }
    return count;
  }

  approvedTotal(): number {
    return this.#sum(this.approvals);
  }

  #sum(list: Approval[]): number {
    return list.reduce((total, a) => total + a.amount, 0);
  }
}

/** The customer with the new phone pays less often: most offline payments should meet the money limits. */
const customerIndex = fc.constantFrom(0, 0, 0, 1, 1, 1, 2);
/** Mostly one lane: a third lane within the window is a velocity decline, which would stop most sequences. */
const laneIndex = fc.constantFrom(0, 0, 0, 0, 1, 1, 2);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      customer: customerIndex,
      amount: fc.constantFrom(1, 100, 500, 1_000, 1_999, 2_000, 3_000, 4_000, 5_000, 5_001),
      lane: laneIndex,
      restricted: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('replay' as const), customer: customerIndex, lane: laneIndex }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      customer: customerIndex,
      amount: fc.constantFrom(100, 500, 1_000, 2_000),
      lane: laneIndex,
      count: fc.integer({ min: 2, max: 5 }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'offline' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'online' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('feed' as const),
      event: fc.oneof(
        fc.constant({ type: 'refresh' as const }),
        fc.constant({ type: 'stale' as const }),
        fc.record({
          type: fc.constant('limits' as const),
          limits: fc.record(
            {
              perTransactionLimit: fc.constantFrom(3_000, 5_000),
              perDeviceLimit: fc.constantFrom(6_000, 8_000),
              consecutiveMax: fc.constantFrom(2, 3),
              storeLimit: fc.constantFrom(9_000, 15_000),
            },
            { requiredKeys: [] },
          ),
        }),
        fc.record({ type: fc.constantFrom('freeze' as const, 'unfreeze' as const), customer: customerIndex }),
      ),
    }),
  },
);

/** The real store for one run, and the phones of its customers. */
interface World {
  s: OfflineStack;
  phones: SandboxPhone[];
  accounts: string[];
  lastCode: ({ counter: number; text: string } | undefined)[];
}

async function startWorld(): Promise<World> {
  const s = await startOfflineStack({
    lanes: LANES,
    realTime: true,
    config: {
      wallet: { timeoutMs: 3_000 },
      offline: { ...BASE_LIMITS, velocity: VELOCITY, probeTimeoutMs: 2_000 },
    },
  });
  const accounts: string[] = [];
  const phones: SandboxPhone[] = [];
  for (const c of CUSTOMERS) {
    const accountId = await s.stack.account(c.balance);
    accounts.push(accountId);
    phones.push(
      await s.stack.phone(accountId, {
        enrolledAt: s.clock.sec - c.enrolledAgoSec,
        offlineLimit: c.offlineLimit,
      }),
    );
  }
  return { s, phones, accounts, lastCode: CUSTOMERS.map(() => undefined) };
}

async function step(world: World, model: Model, command: Command): Promise<void> {
  const { s } = world;
  switch (command.kind) {
    case 'pay':
      return pay(world, model, command, command.restricted);
    case 'replay':
      return pay(world, model, { ...command, amount: 500 }, false, world.lastCode[command.customer]);
    case 'burst':
      for (let i = 0; i < command.count; i++) {
        await pay(world, model, command, false);
        if (i < command.count - 1) await checkInvariants(world, model);
      }
      return;
    case 'offline':
      model.online = false;
      return s.goOffline();
    case 'online':
      model.online = true;
      return s.goOnline();
    case 'restart':
      return s.stack.restartGateway();
    case 'sync': {
      const summary = await s.syncNow();
      expect(summary).toMatchObject({ ok: true });
      model.sync();
      return;
    }
    case 'feed':
      return feed(world, model, command.event);
  }
}

/** One payment: a new code from the customer's phone, or `shown` again. */
async function pay(
  world: World,
  model: Model,
  command: { customer: number; amount: number; lane: number },
  restricted: boolean,
  shown?: { counter: number; text: string },
): Promise<void> {
  const phone = world.phones[command.customer]!;
  const code = shown ?? { counter: phone.lastCounter + 1, text: phone.nextCode(world.s.clock.sec) };
  world.lastCode[command.customer] = code;
  const basket = [{ category: restricted ? 'tobacco' : 'food', amount: command.amount }];
  const expected = model.pay(command.customer, code.counter, command.amount, command.lane, restricted);
  const paid = await world.s.pay(command.lane, command.amount, code.text, basket);
  expect(outcomeOf(paid), JSON.stringify(command)).toEqual(expected);
}

async function feed(world: World, model: Model, event: FeedEvent): Promise<void> {
  const { s } = world;
  if (event.type === 'stale') {
    s.refreshFeed(s.clock.ms - (FEED_MAX_AGE_SEC + 1) * 1000);
    model.feedFresh = false;
    return;
  }
  if (event.type === 'limits' && Object.keys(event.limits).length > 0) {
    await s.stack.admin('POST', '/v1/sandbox/limits', event.limits);
    model.limits = { ...model.limits, ...event.limits };
  }
  if (event.type === 'freeze' || event.type === 'unfreeze') {
    await s.stack.admin('POST', `/v1/sandbox/accounts/${world.accounts[event.customer]}/${event.type}`);
    model.frozen[event.customer] = event.type === 'freeze';
  }
  await s.pollFeed();
  model.feedFresh = true;
}

function outcomeOf(payment: Json): Outcome {
  const outcome: Outcome = { state: payment.state };
  if (payment.mode !== undefined) outcome.mode = payment.mode;
  if (payment.decision?.reason !== undefined) outcome.reason = payment.decision.reason;
  return outcome;
}

/** After every step: the store's view of exposure agrees with the model's, and no code is approved twice. */
async function checkInvariants(world: World, model: Model): Promise<void> {
  const { s } = world;
  const status = (await s.status()).offline;
  expect(status.storeExposure).toBe(model.storeExposure());
  const byDevice = new Map<string, Json>(status.devices.map((d: Json) => [d.deviceId, d]));
  world.phones.forEach((phone, i) => {
    const device = byDevice.get(phone.deviceId);
    expect(device?.unsyncedTotal ?? 0).toBe(model.deviceExposure(i));
    if (device !== undefined) expect(device.consecutive).toBe(model.consecutive(i));
  });
  const db = s.stack.gateway.db;
  const doubles = db
    .prepare(
      `SELECT device_id, counter FROM payments WHERE approved = 1 AND counter IS NOT NULL
       GROUP BY device_id, counter HAVING count(*) > 1`,
    )
    .all();
  expect(doubles).toEqual([]);
  const ledger = db
    .prepare("SELECT coalesce(sum(amount), 0) AS total FROM ledger WHERE type = 'authorization'")
    .get();
  expect(ledger).toEqual({ total: model.approvedTotal() });
}

async function finish(world: World, model: Model): Promise<void> {
  const { s } = world;
  await s.goOnline();
  expect(await s.syncNow()).toMatchObject({ ok: true });
  model.sync();
  for (const [i, accountId] of world.accounts.entries()) {
    expect(await s.stack.balance(accountId), `balance of customer ${i}`).toBe(model.balance[i]);
  }
  const losses = s.stack.gateway.db
    .prepare('SELECT coalesce(sum(amount), 0) AS total FROM sync_losses')
    .get();
  expect(losses).toEqual({ total: model.rejectedTotal });
  expect((await s.status()).offline.storeExposure).toBe(0);
  expect(s.stack.gateway.ledger.verify().ok).toBe(true);
}

describe('offline acceptance against a reference model', () => {
  it(
    `never approves a code twice, never exceeds a cap, and its totals equal the model's (${RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 10, maxLength: 40 }), async (commands) => {
          const world = await startWorld();
          const model = new Model();
          try {
            world.s.refreshFeed();
            for (const command of commands) {
              await step(world, model, command);
              await checkInvariants(world, model);
            }
            await finish(world, model);
          } finally {
            await world.s.close();
          }
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: !SHRINK },
      );
    },
    Math.max(60_000, RUNS * 15_000),
  );
});
