// Scenario 1, offline authorization throughput through the register API, every approval durable (WAL +
// synchronous=FULL) before it is answered. The gateway (`tillgate start`) runs with the wallet down — its URL is a
// closed loopback port, after one risk-feed refresh while the wallet was up (issuer keys, fresh feed) — so each
// POST /v1/payments {payCode} is checked, reserved, refused by the wallet's host and decided offline. Many enrolled
// devices, codes made in advance in counter order, registers on several lanes. The ceiling, driven the same way in
// the same run: a bare Express JSON echo server (bench/echo-server.ts). Also driven the same way: the floor
// (bench/floor-server.ts), Express plus only what the contract asks of any implementation per approval — the code's
// checks 1–7 and a group-committed durable row. Rounds take the three in turn (the order rotated each round); the
// figure is median(gateway) ÷ median(echo), and the floor's share of the echo says how much of that ceiling is
// within reach at all on this machine. A short raw durable-commit probe closes the run.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../gateway/db/open.js';
import { databasePath } from '../gateway/gateway.js';
import { Ledger } from '../gateway/ledger/ledger.js';
import type { SandboxPhone } from '../wallet/sandbox-phone.js';
import {
  CURRENCY,
  enrollPhones,
  freePort,
  type GatewaySetup,
  makeCodes,
  refreshFeedOnce,
  SandboxAdmin,
  startGatewayProcess,
  startWalletProcess,
  THROUGHPUT_LIMITS,
  writeGatewayConfig,
} from './bench-store.js';
import { type BenchChild, firstJsonLine, killAll, printLogTails, spawnNode } from './children.js';
import { closedLoop, type LoadRequest, type LoadResult } from './closed-loop.js';
import { openRawCommitTable, timeCommits } from './commit-probe.js';
import {
  benchArgs,
  fixed,
  median,
  numberOption,
  printRows,
  RUN_OPTIONS,
  seededRandom,
  writeSummary,
} from './support.js';

const USAGE = `Usage: node dist/bench/offline-throughput.js [--duration 6] [--rounds 3] [--connections 16] [--devices 200]
  [--lanes 8] [--seed 1] [--cpu-prof DIR] [--keep] [--summary FILE]
  -h, --help  this text

Offline approvals/s through the register API, every approval durable, against an Express JSON echo and the floor server.`;
const { values } = benchArgs(USAGE, {
  duration: { type: 'string' },
  rounds: { type: 'string' },
  connections: { type: 'string' },
  devices: { type: 'string' },
  lanes: { type: 'string' },
  ...RUN_OPTIONS,
});
const durationSec = numberOption(values.duration, '--duration', 6);
const rounds = Math.round(numberOption(values.rounds, '--rounds', 3));
const connections = Math.round(numberOption(values.connections, '--connections', 16));
const deviceCount = Math.round(numberOption(values.devices, '--devices', 200));
const laneCount = Math.round(numberOption(values.lanes, '--lanes', 8));
const random = seededRandom(numberOption(values.seed, '--seed', 1));
const AMOUNT = 100;
const WARMUP_SEC = 2;

const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-offline-'));
const children: BenchChild[] = [];
/** Set when a round went wrong: its logs stay for a look. */
let keepDir = false;

/** The wallet up just long enough for accounts, phones and one feed refresh; then it stops: the store is offline. */
async function prepareStore(): Promise<{ setup: GatewaySetup; phones: SandboxPhone[] }> {
  const wallet = await startWalletProcess(dir);
  children.push(wallet.child);
  const admin = new SandboxAdmin(wallet.url, wallet.adminKey);
  const { storeId, storeKey } = await admin.createStore('bench-offline');
  const phones = await enrollPhones(admin, deviceCount, {
    balance: 1_000_000_000,
    offlineLimit: 1_000_000_000,
  });
  const setup = await writeGatewayConfig(dir, {
    storeId,
    storeKey,
    walletUrl: `http://127.0.0.1:${await freePort()}`,
    lanes: laneCount,
    // Codes are made before each round; ten minutes covers a long --duration.
    extra: { offline: THROUGHPUT_LIMITS, codes: { maxCodeAgeSec: 600 } },
  });
  await refreshFeedOnce(setup.dataDir, { url: wallet.url, storeId, storeKey });
  await wallet.child.stop();
  return { setup, phones };
}

/** Where a driver sends its payments and which answers count: the gateway's register API, or the floor server. */
interface PaymentTarget {
  url: string;
  pid: number;
  path: string;
  ok: (status: number, body: string) => boolean;
}

const GATEWAY_PAYMENTS = {
  path: '/v1/payments',
  ok: (status: number, body: string) => status === 201 && body.includes('"state":"approved"'),
};
const FLOOR_PAYMENTS = { path: '/pay', ok: (status: number) => status === 201 };

/** POST {payCode} with a fresh code each, registers taken in turn; an answer counts when the target's ok says so. */
class PaymentDriver {
  lastRate = 0;
  /** The last run used every code it had, so its rate is a floor of what the server does: make more next time. */
  lastExhausted = false;
  #sequence = 0;
  readonly #setup: GatewaySetup;
  readonly #target: PaymentTarget;
  readonly #phones: readonly SandboxPhone[];
  readonly #offset: number;

  constructor(
    setup: GatewaySetup,
    target: PaymentTarget,
    phones: readonly SandboxPhone[],
    random: () => number,
  ) {
    this.#setup = setup;
    this.#target = target;
    this.#phones = phones;
    this.#offset = Math.floor(random() * setup.registers.length);
  }

  async run(seconds: number, codeCount: number): Promise<LoadResult> {
    const codes = makeCodes(this.#phones, codeCount, Math.floor(Date.now() / 1000));
    let used = 0;
    const result = await closedLoop({
      url: this.#target.url,
      connections,
      durationSec: seconds,
      next: () => (used < codes.length ? this.#request(codes[used++]!) : undefined),
      ok: this.#target.ok,
      serverPid: this.#target.pid,
    });
    this.lastRate = result.okPerSec;
    this.lastExhausted = result.exhausted;
    return result;
  }

  sampleBody(): string {
    return JSON.stringify(this.#body(makeCodes(this.#phones.slice(0, 1), 1, 0)[0]!));
  }

  #request(code: string): LoadRequest {
    const register = this.#setup.registers[(this.#sequence + this.#offset) % this.#setup.registers.length]!;
    return {
      method: 'POST',
      path: this.#target.path,
      headers: { authorization: `Bearer ${register.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(this.#body(code)),
    };
  }

  #body(code: string): Record<string, unknown> {
    return { amount: AMOUNT, currency: CURRENCY, orderRef: `bench-${++this.#sequence}`, payCode: code };
  }
}

/** The fastest the echo ceiling has gone in this run: no server driven the same way can answer faster. */
let ceilingRate = 0;

/**
 * Enough pre-made codes for a round, with room to spare: twice the driver's last rate, but never more than the
 * ceiling's rate allows, and the ceiling's when the last run used up its codes (its rate then says nothing of what
 * the server could do: it counts the time the driver stood idle).
 */
function codesFor(driver: PaymentDriver, seconds: number): number {
  const bound = ceilingRate * 1.2;
  const rate = driver.lastExhausted || driver.lastRate === 0 ? bound : Math.min(bound, driver.lastRate * 2);
  return Math.ceil(Math.max(3_000, rate * seconds));
}

/** The same shape of request to the echo server: same headers, a body of the same size. */
function echoRun(echo: { url: string; pid: number }, body: string, seconds: number): Promise<LoadResult> {
  const request: LoadRequest = {
    method: 'POST',
    path: '/echo',
    headers: { authorization: 'Bearer rk_echo-ceiling-has-no-auth', 'content-type': 'application/json' },
    body,
  };
  return closedLoop({
    url: echo.url,
    connections,
    durationSec: seconds,
    next: () => request,
    ok: (status) => status === 201,
    serverPid: echo.pid,
  });
}

/** After the run: every approval answered has its ledger entry, and the chain holds. */
function checkLedger(setup: GatewaySetup): { entries: number; chainOk: boolean } {
  const db = openDatabase(databasePath({ dataDir: setup.dataDir }), { readonly: true });
  try {
    const report = new Ledger(db).verify();
    return { entries: report.entries, chainOk: report.ok };
  } finally {
    db.close();
  }
}

interface Runs {
  echo: LoadResult[];
  floor: LoadResult[];
  gateway: LoadResult[];
}

function report(runs: Runs, commitsPerSec: number, ledger: { entries: number; chainOk: boolean }): void {
  const rate = (name: keyof Runs) => median(runs[name].map((r) => r.okPerSec));
  const [echoRate, floorRate, gatewayRate] = [rate('echo'), rate('floor'), rate('gateway')];
  const ratio = gatewayRate / echoRate;
  const row = (name: string, target: keyof Runs): string[] => [
    name,
    fixed(rate(target), 0),
    runs[target].map((r) => fixed(r.okPerSec, 0)).join(' / '),
    fixed(median(runs[target].map((r) => r.latencyP50Ms)), 0),
    fixed(median(runs[target].map((r) => r.latencyP99Ms)), 0),
    fixed(median(runs[target].map((r) => r.serverCpuMsPerOk ?? Number.NaN)), 3),
    fixed(rate(target) / echoRate),
    String(runs[target].reduce((n, r) => n + r.bad, 0)),
  ];
  printRows(
    `offline authorization throughput, ${rounds} rounds of ${durationSec} s, ${connections} connections, ` +
      `${deviceCount} devices, ${laneCount} lanes`,
    [
      [
        'server',
        'req/s (median)',
        'rounds',
        'p50 ms',
        'p99 ms',
        'server CPU ms/req',
        'ratio to echo',
        'not ok',
      ],
      row('Express JSON echo (ceiling)', 'echo'),
      row('floor: checks 1–7 + a group-committed durable row', 'floor'),
      row('gateway, offline approvals', 'gateway'),
    ],
  );
  const all = [...runs.gateway, ...runs.floor, ...runs.echo];
  const firstBad = all.find((r) => r.firstBad !== undefined)?.firstBad;
  console.log(`\nratio to the ceiling: ${fixed(ratio)} (target ≥ 0.6: ${ratio >= 0.6 ? 'met' : 'missed'})`);
  console.log(
    `the floor reaches ${fixed(floorRate / echoRate)} of the ceiling; the gateway ${fixed(gatewayRate / floorRate)} of the floor`,
  );
  console.log(
    `durable single-row commits/s on this disk, same run: ${fixed(commitsPerSec, 0)}; ` +
      `approvals per commit-time: ${fixed(gatewayRate / commitsPerSec)}`,
  );
  console.log(
    `ledger after the run: ${ledger.entries} entries, chain ${ledger.chainOk ? 'valid' : 'BROKEN'}`,
  );
  if (runs.gateway.some((r) => r.exhausted) || runs.floor.some((r) => r.exhausted))
    console.log('note: a round ran out of pre-made codes (rate still valid)');
  if (firstBad !== undefined) console.log(`first answer that was not ok: ${firstBad}`);
  writeSummary(values.summary, {
    scenario: 'offline throughput',
    rows: [
      {
        metric: 'offline approvals/s',
        value: gatewayRate,
        unit: 'req/s',
        baseline: { name: 'Express JSON echo', value: echoRate, unit: 'req/s' },
        ratio,
        target: 'ratio ≥ 0.6',
        met: ratio >= 0.6,
      },
      {
        metric: 'floor (checks 1–7 + durable row) approvals/s',
        value: floorRate,
        unit: 'req/s',
        baseline: { name: 'Express JSON echo', value: echoRate, unit: 'req/s' },
        ratio: floorRate / echoRate,
      },
      {
        metric: 'offline approvals/s vs the floor',
        value: gatewayRate,
        unit: 'req/s',
        baseline: { name: 'floor', value: floorRate, unit: 'req/s' },
        ratio: gatewayRate / floorRate,
      },
      {
        metric: 'offline approvals/s vs durable commits/s',
        value: gatewayRate,
        unit: 'req/s',
        baseline: { name: 'single-row durable commits', value: commitsPerSec, unit: 'commits/s' },
        ratio: gatewayRate / commitsPerSec,
      },
    ],
    notes: [`ledger ${ledger.entries} entries, chain ${ledger.chainOk ? 'valid' : 'broken'}`],
  });
  // Every request of a round should be approved (the limits are raised): an answer that was not, or a round with
  // none, means the figure is not the one this scenario claims to measure.
  const notOk = all.reduce((n, r) => n + r.bad, 0);
  if (notOk > 0 || runs.gateway.some((r) => r.ok === 0) || runs.floor.some((r) => r.ok === 0)) {
    console.log(`${notOk} answers were not ok; the gateway's log: ${join(dir, 'gateway.log')} (kept)`);
    keepDir = true;
    process.exitCode = 1;
  }
  if (!ledger.chainOk) process.exitCode = 1;
}

/** A server of the run started from dist/, its {url} read from its first line. */
async function startServer(
  name: string,
  script: string,
  args: string[],
): Promise<{ url: string; pid: number }> {
  const child = spawnNode(name, script, args, { logFile: join(dir, `${name}.log`), pipeStdout: true });
  children.push(child);
  return { url: (await firstJsonLine<{ url: string }>(child, 30_000)).url, pid: child.process.pid! };
}

async function main(): Promise<void> {
  try {
    const { setup, phones } = await prepareStore();
    const echoTarget = await startServer('echo', 'bench/echo-server.js', []);
    const floorTarget = await startServer('floor', 'bench/floor-server.js', [
      '--keys',
      databasePath({ dataDir: setup.dataDir }),
      '--data',
      join(dir, 'floor.sqlite'),
    ]);
    const profDir = values['cpu-prof'];
    if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
    const gateway = await startGatewayProcess(dir, setup, {
      ...(profDir === undefined ? {} : { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] }),
    });
    children.push(gateway.child);

    const driver = new PaymentDriver(
      setup,
      { url: setup.url, pid: gateway.child.process.pid!, ...GATEWAY_PAYMENTS },
      phones,
      random,
    );
    const floor = new PaymentDriver(setup, { ...floorTarget, ...FLOOR_PAYMENTS }, phones, random);
    ceilingRate = (await echoRun(echoTarget, driver.sampleBody(), WARMUP_SEC)).okPerSec;
    await driver.run(WARMUP_SEC, codesFor(driver, WARMUP_SEC));
    await floor.run(WARMUP_SEC, codesFor(floor, WARMUP_SEC));

    const runs: Runs = { echo: [], floor: [], gateway: [] };
    const turns: (() => Promise<void>)[] = [
      async () => {
        const echo = await echoRun(echoTarget, driver.sampleBody(), durationSec);
        ceilingRate = Math.max(ceilingRate, echo.okPerSec);
        runs.echo.push(echo);
      },
      async () => {
        runs.floor.push(await floor.run(durationSec, codesFor(floor, durationSec)));
      },
      async () => {
        runs.gateway.push(await driver.run(durationSec, codesFor(driver, durationSec)));
      },
    ];
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < turns.length; turn++) await turns[(round + turn) % turns.length]!();
    }
    await gateway.child.stop();
    for (const child of children) await child.stop();
    const commits = timeCommits(
      (
        (insert) => () =>
          insert('x'.repeat(200))
      )(openRawCommitTable(join(dir, 'raw.sqlite'))),
      2_000,
    );
    const ledger = checkLedger(setup);
    report(runs, commits.perSec, ledger);
  } catch (error) {
    printLogTails(children);
    killAll();
    throw error;
  } finally {
    killAll();
    if (values.keep || keepDir) console.log(`run directory kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
