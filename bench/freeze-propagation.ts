// Scenario 6, freeze propagation: time from `POST /v1/sandbox/accounts/:id/freeze` at the sandbox wallet to the
// gateway's deny-list holding the account (its frozen_accounts row, read from the gateway's SQLite file by a
// read-only connection, as the payment checks read it). Wallet and gateway (`tillgate start`, risk-feed follower of
// sync/ running inside it) are separate processes. Baseline in the same run: a bare long-poll client of the same
// feed in this process (no SQLite, no gateway), which shows what the wallet's feed itself allows. One freeze at a
// time, each on a fresh account, a seeded pause between them; p99 over --freezes (default 100).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../gateway/db/open.js';
import { databasePath } from '../gateway/gateway.js';
import {
  type GatewaySetup,
  SandboxAdmin,
  startGatewayProcess,
  startWalletProcess,
  writeGatewayConfig,
} from './bench-store.js';
import { type BenchChild, killAll, printLogTails } from './children.js';
import {
  benchArgs,
  fixed,
  numberOption,
  percentile,
  printRows,
  seededRandom,
  sleep,
  writeSummary,
} from './support.js';

const USAGE = `Usage: node dist/bench/freeze-propagation.js [--freezes 100] [--seed 1] [--keep] [--summary FILE]
  -h, --help  this text

Freeze at the sandbox wallet -> the gateway's deny-list, p99 over --freezes, against a bare long-poll client.`;
const { values } = benchArgs(USAGE, {
  freezes: { type: 'string' },
  seed: { type: 'string' },
  keep: { type: 'boolean', default: false },
  summary: { type: 'string' },
});
const freezes = Math.round(numberOption(values.freezes, '--freezes', 100));
const random = seededRandom(numberOption(values.seed, '--seed', 1));
const TARGET_P99_MS = 2_000;
/** How long the first freeze may take to arrive before the run concludes the follower is not running. */
const WIRING_WAIT_MS = 30_000;
/** Any one freeze not applied within this is a failure of the run, not a slow figure. */
const FREEZE_GIVE_UP_MS = 30_000;
const POLL_MS = 2;

const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-freeze-'));
const children: BenchChild[] = [];

/** A bare follower of the wallet's risk feed: long polls from the current cursor, notes when each freeze arrives. */
class BareFollower {
  readonly arrivals = new Map<string, number>();
  #stopped = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    readonly url: string,
    readonly storeId: string,
    readonly storeKey: string,
  ) {}

  async start(): Promise<void> {
    const first = await this.#page(null, 0);
    this.#running = this.#loop(first.cursor);
  }

  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#running?.catch(() => undefined);
  }

  async #loop(start: string): Promise<void> {
    let cursor = start;
    while (!this.#stopped.signal.aborted) {
      const page = await this.#page(cursor, 25_000);
      const at = performance.now();
      for (const event of page.events) {
        if (event.type === 'account_frozen' && typeof event.accountId === 'string') {
          this.arrivals.set(event.accountId, at);
        }
      }
      cursor = page.cursor;
    }
  }

  async #page(
    cursor: string | null,
    waitMs: number,
  ): Promise<{ cursor: string; events: Record<string, unknown>[] }> {
    const query = `${cursor === null ? '' : `cursor=${cursor}&`}waitMs=${waitMs}`;
    const response = await fetch(`${this.url}/v1/stores/${this.storeId}/risk-feed?${query}`, {
      headers: { authorization: `Bearer ${this.storeKey}` },
      signal: this.#stopped.signal,
    });
    if (!response.ok) throw new Error(`risk feed: ${response.status}`);
    return (await response.json()) as { cursor: string; events: Record<string, unknown>[] };
  }
}

async function main(): Promise<void> {
  let follower: BareFollower | undefined;
  try {
    const wallet = await startWalletProcess(dir);
    children.push(wallet.child);
    const admin = new SandboxAdmin(wallet.url, wallet.adminKey);
    const { storeId, storeKey } = await admin.createStore('bench-freeze');
    const accounts = [];
    for (let i = 0; i <= freezes; i++) accounts.push(await admin.createAccount(1_000));
    const setup = await writeGatewayConfig(dir, { storeId, storeKey, walletUrl: wallet.url, lanes: 1 });
    const gateway = await startGatewayProcess(dir, setup);
    children.push(gateway.child);
    follower = new BareFollower(wallet.url, storeId, storeKey);
    await follower.start();
    const denyList = openDenyList(setup);

    const [probe, ...measured] = accounts;
    const wired = await freezeOnce(admin, probe!, denyList, follower, WIRING_WAIT_MS);
    if (wired === null) {
      reportNotWired();
      return;
    }
    const runs: Freeze[] = [];
    for (const accountId of measured) {
      await sleep(Math.floor(random() * 100));
      const run = await freezeOnce(admin, accountId, denyList, follower, FREEZE_GIVE_UP_MS);
      if (run === null)
        throw new Error(`freeze of ${accountId} not applied by the gateway in ${FREEZE_GIVE_UP_MS} ms`);
      runs.push(run);
    }
    denyList.close();
    report(runs);
  } catch (error) {
    printLogTails(children);
    throw error;
  } finally {
    await follower?.stop();
    killAll();
    if (values.keep) console.log(`run directory kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

interface DenyList {
  has(accountId: string): boolean;
  close(): void;
}

/** The gateway's frozen_accounts table through a read-only connection (WAL: readers see each commit at once). */
function openDenyList(setup: GatewaySetup): DenyList {
  const db = openDatabase(databasePath(setup), { readonly: true });
  const find = db.prepare<[string], { since: number }>(
    'SELECT since FROM frozen_accounts WHERE account_id = ?',
  );
  return { has: (accountId) => find.get(accountId) !== undefined, close: () => db.close() };
}

interface Freeze {
  /** Freeze call sent → the gateway's deny-list has the account. */
  gatewayMs: number;
  /** Freeze call sent → the bare follower's long poll returned it. */
  bareMs: number;
  /** The freeze call's own round trip. */
  callMs: number;
}

async function freezeOnce(
  admin: SandboxAdmin,
  accountId: string,
  denyList: DenyList,
  follower: BareFollower,
  giveUpMs: number,
): Promise<Freeze | null> {
  const sent = performance.now();
  await admin.freeze(accountId);
  const callMs = performance.now() - sent;
  let applied: number | undefined;
  while (applied === undefined) {
    if (denyList.has(accountId)) applied = performance.now();
    else if (performance.now() - sent > giveUpMs) return null;
    else await sleep(POLL_MS);
  }
  while (!follower.arrivals.has(accountId) && performance.now() - sent < giveUpMs) await sleep(POLL_MS);
  const bare = follower.arrivals.get(accountId);
  return { gatewayMs: applied - sent, bareMs: bare === undefined ? Number.NaN : bare - sent, callMs };
}

function report(runs: Freeze[]): void {
  const pick = (key: keyof Freeze): number[] => runs.map((r) => r[key]);
  const row = (name: string, v: number[]): string[] => [
    name,
    fixed(percentile(v, 0.5), 1),
    fixed(percentile(v, 0.9), 1),
    fixed(percentile(v, 0.99), 1),
    fixed(Math.max(...v), 1),
  ];
  const gateway99 = percentile(pick('gatewayMs'), 0.99);
  const bare99 = percentile(pick('bareMs'), 0.99);
  const met = gateway99 <= TARGET_P99_MS;
  printRows(`freeze propagation over ${runs.length} freezes (ms from sending the freeze)`, [
    ['reached', 'p50', 'p90', 'p99', 'max'],
    row('the freeze call answered', pick('callMs')),
    row('baseline: bare long-poll client of the feed', pick('bareMs')),
    row("the gateway's deny-list (frozen_accounts)", pick('gatewayMs')),
  ]);
  console.log(
    `\np99 ${fixed(gateway99, 1)} ms (target ≤ ${TARGET_P99_MS} ms: ${met ? 'met' : 'missed'}); ` +
      `ratio to the bare follower's p99: ${fixed(gateway99 / bare99)}`,
  );
  writeSummary(values.summary, {
    scenario: 'freeze propagation',
    rows: [
      {
        metric: 'freeze → gateway deny-list, p99',
        value: gateway99,
        unit: 'ms',
        baseline: { name: 'bare long-poll client p99', value: bare99, unit: 'ms' },
        ratio: gateway99 / bare99,
        target: `≤ ${TARGET_P99_MS} ms`,
        met,
      },
    ],
  });
}

function reportNotWired(): void {
  console.log(
    `\nthe gateway did not apply a freeze within ${WIRING_WAIT_MS} ms: is the risk-feed follower wired into it?`,
  );
  writeSummary(values.summary, {
    scenario: 'freeze propagation',
    rows: [],
    notes: [
      `not measured: no freeze reached the gateway within ${WIRING_WAIT_MS} ms (risk-feed follower not running)`,
    ],
  });
  process.exitCode = 1;
}

await main();
