// Scenario 1, offline authorization throughput through the register API, every approval durable (WAL +
// synchronous=FULL) before it is answered. The gateway (`tillgate start`) runs with the wallet down — its URL is a
// closed loopback port, after one risk-feed refresh while the wallet was up (issuer keys, fresh feed) — so each
// POST /v1/payments {payCode} is checked, reserved, refused by the wallet's host and decided offline. Many enrolled
// devices, codes made in advance in counter order, registers on several lanes. The ceiling, driven the same way in
// the same run: a bare Express JSON echo server (bench/echo-server.ts). Rounds alternate the two (order flipped
// each round); the figure is median(gateway) ÷ median(echo). A short raw durable-commit probe closes the run.
// Usage: node dist/bench/offline-throughput.js [--duration 6] [--rounds 3] [--connections 16] [--devices 200]
//   [--lanes 8] [--seed 1] [--cpu-prof DIR] [--keep] [--summary FILE]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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
import { fixed, median, numberOption, printRows, seededRandom, writeSummary } from './support.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    devices: { type: 'string' },
    lanes: { type: 'string' },
    seed: { type: 'string' },
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false },
    summary: { type: 'string' },
  },
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

/** POST /v1/payments with a fresh code each, registers taken in turn; an answer counts when it is an approval. */
class PaymentDriver {
  lastRate = 0;
  #sequence = 0;
  readonly #setup: GatewaySetup;
  readonly #phones: readonly SandboxPhone[];
  readonly #offset: number;
  readonly #pid: number;

  constructor(setup: GatewaySetup, phones: readonly SandboxPhone[], random: () => number, pid: number) {
    this.#setup = setup;
    this.#pid = pid;
    this.#phones = phones;
    this.#offset = Math.floor(random() * setup.registers.length);
  }

  async run(seconds: number, codeCount: number): Promise<LoadResult> {
    const codes = makeCodes(this.#phones, codeCount, Math.floor(Date.now() / 1000));
    let used = 0;
    const result = await closedLoop({
      url: this.#setup.url,
      connections,
      durationSec: seconds,
      next: () => (used < codes.length ? this.#request(codes[used++]!) : undefined),
      ok: (status, body) => status === 201 && body.includes('"state":"approved"'),
      serverPid: this.#pid,
    });
    this.lastRate = result.okPerSec;
    return result;
  }

  sampleBody(): string {
    return JSON.stringify(this.#body(makeCodes(this.#phones.slice(0, 1), 1, 0)[0]!));
  }

  #request(code: string): LoadRequest {
    const register = this.#setup.registers[(this.#sequence + this.#offset) % this.#setup.registers.length]!;
    return {
      method: 'POST',
      path: '/v1/payments',
      headers: { authorization: `Bearer ${register.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(this.#body(code)),
    };
  }

  #body(code: string): Record<string, unknown> {
    return { amount: AMOUNT, currency: CURRENCY, orderRef: `bench-${++this.#sequence}`, payCode: code };
  }
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

function report(
  gatewayRuns: LoadResult[],
  echoRuns: LoadResult[],
  commitsPerSec: number,
  ledger: { entries: number; chainOk: boolean },
): void {
  const gatewayRate = median(gatewayRuns.map((r) => r.okPerSec));
  const echoRate = median(echoRuns.map((r) => r.okPerSec));
  const ratio = gatewayRate / echoRate;
  const row = (name: string, runs: LoadResult[], rate: number): string[] => [
    name,
    fixed(rate, 0),
    runs.map((r) => fixed(r.okPerSec, 0)).join(' / '),
    fixed(median(runs.map((r) => r.latencyP50Ms)), 0),
    fixed(median(runs.map((r) => r.latencyP99Ms)), 0),
    fixed(median(runs.map((r) => r.serverCpuMsPerOk ?? Number.NaN)), 3),
    String(runs.reduce((n, r) => n + r.bad, 0)),
  ];
  printRows(
    `offline authorization throughput, ${rounds} rounds of ${durationSec} s, ${connections} connections, ` +
      `${deviceCount} devices, ${laneCount} lanes`,
    [
      ['server', 'req/s (median)', 'rounds', 'p50 ms', 'p99 ms', 'server CPU ms/req', 'not ok'],
      row('Express JSON echo (ceiling)', echoRuns, echoRate),
      row('gateway, offline approvals', gatewayRuns, gatewayRate),
    ],
  );
  const firstBad = [...gatewayRuns, ...echoRuns].find((r) => r.firstBad !== undefined)?.firstBad;
  console.log(`\nratio to the ceiling: ${fixed(ratio)} (target ≥ 0.6: ${ratio >= 0.6 ? 'met' : 'missed'})`);
  console.log(
    `durable single-row commits/s on this disk, same run: ${fixed(commitsPerSec, 0)}; ` +
      `approvals per commit-time: ${fixed(gatewayRate / commitsPerSec)}`,
  );
  console.log(
    `ledger after the run: ${ledger.entries} entries, chain ${ledger.chainOk ? 'valid' : 'BROKEN'}`,
  );
  if (gatewayRuns.some((r) => r.exhausted))
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
  const notOk = [...gatewayRuns, ...echoRuns].reduce((n, r) => n + r.bad, 0);
  if (notOk > 0 || gatewayRuns.some((r) => r.ok === 0)) {
    console.log(`${notOk} answers were not ok; the gateway's log: ${join(dir, 'gateway.log')} (kept)`);
    keepDir = true;
    process.exitCode = 1;
  }
  if (!ledger.chainOk) process.exitCode = 1;
}

async function main(): Promise<void> {
  try {
    const { setup, phones } = await prepareStore();
    const echo = spawnNode('echo', 'bench/echo-server.js', [], {
      logFile: join(dir, 'echo.log'),
      pipeStdout: true,
    });
    children.push(echo);
    const echoTarget = {
      url: (await firstJsonLine<{ url: string }>(echo, 30_000)).url,
      pid: echo.process.pid!,
    };
    const profDir = values['cpu-prof'];
    if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
    const gateway = await startGatewayProcess(dir, setup, {
      ...(profDir === undefined ? {} : { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] }),
    });
    children.push(gateway.child);

    const driver = new PaymentDriver(setup, phones, random, gateway.child.process.pid!);
    await driver.run(WARMUP_SEC, 3_000);
    await echoRun(echoTarget, driver.sampleBody(), WARMUP_SEC);

    const gatewayRuns: LoadResult[] = [];
    const echoRuns: LoadResult[] = [];
    for (let round = 0; round < rounds; round++) {
      const need = Math.ceil(Math.max(3_000, driver.lastRate * durationSec * 1.5));
      if (round % 2 === 0) {
        echoRuns.push(await echoRun(echoTarget, driver.sampleBody(), durationSec));
        gatewayRuns.push(await driver.run(durationSec, need));
      } else {
        gatewayRuns.push(await driver.run(durationSec, need));
        echoRuns.push(await echoRun(echoTarget, driver.sampleBody(), durationSec));
      }
    }
    await gateway.child.stop();
    await echo.stop();
    const commits = timeCommits(
      (
        (insert) => () =>
          insert('x'.repeat(200))
      )(openRawCommitTable(join(dir, 'raw.sqlite'))),
      2_000,
    );
    const ledger = checkLedger(setup);
    report(gatewayRuns, echoRuns, commits.perSec, ledger);
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
