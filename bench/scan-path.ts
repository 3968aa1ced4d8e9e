// Scenario 5, the scan path: time from the last byte of a scan to the payment leaving `awaiting_scan`: the claim, the
// UPDATE that moves it to `authorizing` inside the open commit group, after which no other scan can take it, as the
// payment service's `payment` event reports it synchronously. The register hears of it once that group is on disk
// (one COMMIT later): the `told` rows time that, for information; the target is on the claim. The gateway runs in this
// process (startGateway) with two lanes: a serial scanner on a socat pty pair opened with the real serialport binding,
// and a keyboard-wedge scanner on the FakeHidBackend the driver tests use, fed the byte-exact reports of
// drivers/simulators.ts. The sandbox wallet runs as its own process, so every scan is a real PC1 code that ends
// approved. For each scan a register first opens the payment over HTTP; the scan follows 100–200 ms later, after the
// previous payment was decided (one cashier per lane, one lane at a time). The scanners are fed from this process, so
// a scan never lands in the middle of the gateway's own synchronous work: what it can meet is what the gateway does
// between customers (uploads, probes, timers). Baselines in the same run:
//   - raw pty transit: the same bytes written to a second socat pair, read as the lane reads them (the driver's
//     binding, with serial-read.ts's read on the event loop, and the lane's port options) but by a bare stream (no
//     framer, no gateway), one sample after each pair of scans and as long after the last as the scans wait (an
//     idle machine wakes slower than a busy one: samples 2 ms apart were a third of these);
//   - one durable commit (WAL + synchronous=FULL, same disk): taking a scan writes the payment's claim once.
// Usage: node dist/bench/scan-path.js [--scans 100] [--seed 1] [--keep] [--summary FILE] (--help says more). Needs socat.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import pino from 'pino';
import { loadNativeSerialBinding } from '../drivers/serial.js';
import { encodeWedge, FakeHidBackend, keyboardDeviceInfo } from '../drivers/simulators.js';
import { parseConfig } from '../gateway/config.js';
import { type RunningGateway, startGateway } from '../gateway/gateway.js';
import { sha256Hex } from '../gateway/http/auth.js';
import type { LaneEvent } from '../gateway/http/events.js';
import { createLogger } from '../gateway/log.js';
import type { Payment } from '../gateway/payments/payment.js';
import type { SandboxPhone } from '../wallet/sandbox-phone.js';
import {
  CURRENCY,
  enrollPhones,
  SandboxAdmin,
  startWalletProcess,
  THROUGHPUT_LIMITS,
} from './bench-store.js';
import { type BenchChild, killAll, printLogTails } from './children.js';
import { openRawCommitTable, timeCommits } from './commit-probe.js';
import {
  benchArgs,
  fixed,
  numberOption,
  percentile,
  printRows,
  seededRandom,
  sleep,
  waitFor,
  writeSummary,
} from './support.js';

const USAGE = `Usage: node dist/bench/scan-path.js [options]

Last byte of a scan -> the payment out of awaiting_scan, for a serial scanner on a socat pty pair and a
keyboard-wedge scanner, with the raw pty transit and one durable commit as baselines. Needs socat on PATH.

  --scans N       scans per lane, each with its own payment (default 100; 500-1000 for a p99 that means something)
  --seed S        seed of the pauses and the phones chosen (default 1)
  --keep          keep the run directory (gateway log, databases)
  --summary FILE  write the summary rows as JSON (used by bench/run.js)
  -h, --help      this text`;
const { values } = benchArgs(USAGE, {
  scans: { type: 'string' },
  seed: { type: 'string' },
  keep: { type: 'boolean', default: false },
  summary: { type: 'string' },
});
// Without socat there is no pty pair: the run stops before it makes a directory or starts a process.
if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).error !== undefined) {
  console.error(
    'scan-path: socat is needed (it makes the pty pairs of the serial lane and the raw pty baseline) and was ' +
      'not found on PATH. Install it (Debian/Ubuntu: apt-get install socat) and run again.',
  );
  process.exit(1);
}
const scans = Math.round(numberOption(values.scans, '--scans', 100));
const random = seededRandom(numberOption(values.seed, '--seed', 1));
const TARGET_P99_MS = 2;
/** A scan comes this long after its payment was opened, plus up to as much again (seeded). */
const SHOW_PHONE_MIN_MS = 100;
const WEDGE_INFO = keyboardDeviceInfo();

const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-scan-'));
const children: BenchChild[] = [];
const ptys: PtyPair[] = [];

/** A socat pty pair: the scanner side is opened by the reader, bytes are written on the device side. */
class PtyPair {
  readonly readerPath: string;
  readonly #devicePath: string;
  #socat: ChildProcess | undefined;
  #fd: number | undefined;

  constructor(name: string) {
    this.readerPath = join(dir, `${name}-scanner`);
    this.#devicePath = join(dir, `${name}-device`);
  }

  async start(): Promise<void> {
    const socat = spawn('socat', [
      `pty,raw,echo=0,link=${this.readerPath}`,
      `pty,raw,echo=0,link=${this.#devicePath}`,
    ]);
    this.#socat = socat;
    socat.stderr?.resume();
    // A socat that cannot start (or dies) is reported here rather than as an unhandled 'error' event.
    let failure: Error | undefined;
    socat.on('error', (error) => {
      failure = error;
    });
    await waitFor(
      () => {
        if (failure !== undefined) throw new Error(`socat for ${this.readerPath}: ${failure.message}`);
        return existsSync(this.readerPath) && existsSync(this.#devicePath);
      },
      5_000,
      10,
    );
    this.#fd = openSync(this.#devicePath, 'w');
  }

  /** Writes the bytes; returns performance.now() once the last one is handed to the kernel. */
  write(bytes: string): number {
    writeSync(this.#fd!, bytes);
    return performance.now();
  }

  stop(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#socat?.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  let gateway: RunningGateway | undefined;
  try {
    const wallet = await startWalletProcess(dir);
    children.push(wallet.child);
    const admin = new SandboxAdmin(wallet.url, wallet.adminKey);
    const { storeId, storeKey } = await admin.createStore('bench-scan');
    const phones = await enrollPhones(admin, 20, { balance: 1_000_000_000, offlineLimit: 100_000 });
    const serialPair = new PtyPair('serial');
    const rawPair = new PtyPair('raw');
    ptys.push(serialPair, rawPair);
    await serialPair.start();
    await rawPair.start();
    const backend = new FakeHidBackend([WEDGE_INFO]);
    const keys = {
      serial: `rk_serial_${sha256Hex(String(random())).slice(0, 24)}`,
      wedge: `rk_wedge_${sha256Hex(String(random())).slice(0, 24)}`,
    };
    gateway = await startInProcessGateway(
      storeId,
      storeKey,
      wallet.url,
      serialPair.readerPath,
      backend,
      keys,
    );
    const g = gateway;
    await waitFor(
      () => g.lanes.views().every((v) => v.status === 'attached') && g.health.mode === 'online',
      15_000,
    );

    const raw = await RawTransit.open(rawPair, phones[0]!);
    const serial: ScanTiming[] = [];
    const wedge: ScanTiming[] = [];
    const transit: number[] = [];
    try {
      // Interleaved, so that all three see the same machine (its load drifts over a run).
      for (let i = 0; i < scans; i++) {
        serial.push(
          await timeScan(g, keys.serial, 'lane-serial', phones, (code) => ({
            at: serialPair.write(`]Q1${code}\r`),
          })),
        );
        wedge.push(await timeScan(g, keys.wedge, 'lane-wedge', phones, (code) => playWedge(backend, code)));
        await showPhonePause();
        transit.push(await raw.sample());
      }
    } finally {
      await raw.close();
    }
    const commit = openRawCommitTable(join(dir, 'commit.sqlite'));
    const commits = timeCommits(() => commit('x'.repeat(200)), 1_000);
    report({ serial, wedge, raw: transit, commit: commits.latencies });
  } catch (error) {
    printLogTails(children);
    throw error;
  } finally {
    await gateway?.close();
    for (const pair of ptys) pair.stop();
    killAll();
    if (values.keep) console.log(`run directory kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function startInProcessGateway(
  storeId: string,
  storeKey: string,
  walletUrl: string,
  serialPath: string,
  hid: FakeHidBackend,
  keys: { serial: string; wedge: string },
): Promise<RunningGateway> {
  const config = parseConfig({
    storeId,
    dataDir: join(dir, 'gateway'),
    http: { host: '127.0.0.1', port: 0 },
    wallet: { url: walletUrl, storeKey },
    registers: [
      { id: 'register-serial', laneId: 'lane-serial', keySha256: sha256Hex(keys.serial) },
      { id: 'register-wedge', laneId: 'lane-wedge', keySha256: sha256Hex(keys.wedge) },
    ],
    lanes: [
      {
        id: 'lane-serial',
        scanners: [{ type: 'serial', id: 'serial-1', path: serialPath, presencePollMs: 0 }],
      },
      {
        id: 'lane-wedge',
        scanners: [{ type: 'hid-keyboard', id: 'wedge-1', vendorId: WEDGE_INFO.vendorId, presencePollMs: 0 }],
      },
    ],
    offline: THROUGHPUT_LIMITS,
  });
  const logger = createLogger({
    level: 'info',
    destination: pino.destination({ dest: join(dir, 'gateway.log'), sync: true }),
  });
  return startGateway(config, { logger, scanners: { hid } });
}

/** Last byte → (ms) the claim: the payment out of awaiting_scan in the service; told: the register's SSE event. */
interface ScanTiming {
  claimed: number;
  told: number;
  /**
   * CPU time of the process (all its threads: V8's compiler and GC helpers too) from the last report to the claim,
   * where that path is synchronous (wedge), in ms: what the gateway spends, whatever the machine's load.
   */
  cpu?: number;
}

/** When the last byte went out; the process's CPU time then, where the path to the claim is synchronous. */
interface LastByte {
  at: number;
  cpu?: NodeJS.CpuUsage;
}

/** Opens a payment on the lane, makes the scan, and times it. */
async function timeScan(
  gateway: RunningGateway,
  registerKey: string,
  laneId: string,
  phones: SandboxPhone[],
  scan: (code: string) => LastByte | Promise<LastByte>,
): Promise<ScanTiming> {
  const response = await fetch(`${gateway.url}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${registerKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 100, currency: CURRENCY, orderRef: `scan-${laneId}-${Date.now()}` }),
  });
  const created = (await response.json()) as Payment;
  if (response.status !== 201 || created.state !== 'awaiting_scan') {
    throw new Error(`${laneId}: payment not awaiting a scan: ${response.status} ${JSON.stringify(created)}`);
  }
  let left = 0;
  let cpuAtClaim: NodeJS.CpuUsage | undefined;
  const decided = new Promise<Payment>((resolve) => {
    const listener = (payment: Payment): void => {
      if (payment.id !== created.id) return;
      if (left === 0 && payment.state !== 'awaiting_scan') {
        left = performance.now();
        cpuAtClaim = process.cpuUsage();
      }
      if (payment.state !== 'awaiting_scan' && payment.state !== 'authorizing') {
        gateway.service.off('payment', listener);
        resolve(payment);
      }
    };
    gateway.service.on('payment', listener);
  });
  // What the register hears: the event goes out once the claim is on disk (gateway/http/events.ts).
  let told = 0;
  const onEvent = (event: LaneEvent): void => {
    const payment = event.data as Payment;
    if (
      told === 0 &&
      event.type === 'payment' &&
      payment.id === created.id &&
      payment.state !== 'awaiting_scan'
    )
      told = performance.now();
  };
  gateway.hub.on('event', onEvent);
  await showPhonePause();
  const phone = phones[Math.floor(random() * phones.length)]!;
  const code = phone.nextCode(Math.floor(Date.now() / 1000));
  // Armed before the last byte, so that after it the bench's own loop has nothing to do but wait.
  let giveUp: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    giveUp = setTimeout(() => resolve(null), 10_000);
  });
  const lastByte = await scan(code);
  const payment = await Promise.race([decided, timedOut]);
  clearTimeout(giveUp);
  gateway.hub.off('event', onEvent);
  if (payment === null || payment.state !== 'approved' || told === 0) {
    throw new Error(`${laneId}: scan did not end approved (${payment?.state ?? 'no decision in 10 s'})`);
  }
  const timing: ScanTiming = { claimed: left - lastByte.at, told: told - lastByte.at };
  if (lastByte.cpu !== undefined && cpuAtClaim !== undefined) {
    const { user, system } = cpuAtClaim;
    timing.cpu = (user + system - lastByte.cpu.user - lastByte.cpu.system) / 1000;
  }
  return timing;
}

/**
 * The customer shows the phone a moment after the register opened the payment (and the last payment's background
 * work, its upload to the wallet, has had time to run, as between real customers). The raw transit samples wait
 * as long, so that they start from the same idle machine as the scans.
 */
function showPhonePause(): Promise<void> {
  return sleep(SHOW_PHONE_MIN_MS + Math.floor(random() * SHOW_PHONE_MIN_MS));
}

/**
 * A wedge scan as the scanner types it (press and release reports, Enter as the suffix). Reports arrive in bursts
 * a macrotask apart; the Enter press, the report that completes the scan, is sent alone after a pause and timed;
 * the release report follows.
 */
async function playWedge(backend: FakeHidBackend, code: string): Promise<LastByte> {
  const device = backend.device(WEDGE_INFO.path!)!;
  const reports = encodeWedge(`]Q1${code}`, { layout: 'us', suffix: 'enter', interKeyMs: 1 }).map(
    (r) => r.report,
  );
  const enterPress = reports.length - 2;
  for (let i = 0; i < enterPress; i++) {
    device.emitReport(reports[i]!);
    if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
  }
  await sleep(2);
  // The driver may take the report, and the gateway the scan, synchronously inside emitReport: so the clock is read
  // just before the last report is handed over.
  const cpu = process.cpuUsage();
  const at = performance.now();
  device.emitReport(reports[enterPress]!);
  device.emitReport(reports[enterPress + 1]!);
  return { at, cpu };
}

/**
 * The same bytes through a second pty pair, read as the lane reads them (same binding and read, same port options)
 * by a bare stream: the transport's own share of the serial figure. (A bare SerialPort would read on libuv's thread
 * pool, which the lane does not: ~0.1 ms slower at the median, a baseline the serial figure did not have to meet.)
 */
class RawTransit {
  readonly #pair: PtyPair;
  readonly #port: SerialPortStream;
  readonly #frame: string;

  private constructor(pair: PtyPair, port: SerialPortStream, frame: string) {
    this.#pair = pair;
    this.#port = port;
    this.#frame = frame;
  }

  static async open(pair: PtyPair, phone: SandboxPhone): Promise<RawTransit> {
    const port = new SerialPortStream({
      binding: await loadNativeSerialBinding(),
      path: pair.readerPath,
      baudRate: 9600, // the lane's, the serial scanner's default
      autoOpen: false,
      lock: true,
    });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    const code = phone.codeWithCounter(1, Math.floor(Date.now() / 1000));
    return new RawTransit(pair, port, `]Q1${code}\r`);
  }

  /** Write → the chunk with the CR in the reader's hands (ms). */
  async sample(): Promise<number> {
    const arrived = new Promise<number>((resolve) => {
      const onData = (chunk: Buffer): void => {
        if (chunk.includes(13)) {
          this.#port.off('data', onData);
          resolve(performance.now());
        }
      };
      this.#port.on('data', onData);
    });
    const sent = this.#pair.write(this.#frame);
    return (await arrived) - sent;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.#port.close(() => resolve()));
  }
}

function report(input: { serial: ScanTiming[]; wedge: ScanTiming[]; raw: number[]; commit: number[] }): void {
  const results = {
    ...input,
    serial: input.serial.map((t) => t.claimed),
    wedge: input.wedge.map((t) => t.claimed),
  };
  const wedgeCpu = input.wedge.flatMap((t) => (t.cpu === undefined ? [] : [t.cpu]));
  const p = percentile;
  const row = (name: string, v: number[]): string[] => [
    name,
    String(v.length),
    fixed(p(v, 0.5), 3),
    fixed(p(v, 0.9), 3),
    fixed(p(v, 0.99), 3),
    fixed(Math.max(...v), 3),
  ];
  printRows('scan path: last byte → payment out of awaiting_scan (ms)', [
    ['path', 'n', 'p50', 'p90', 'p99', 'max'],
    row('serial scan (socat pty, real binding)', results.serial),
    row('keyboard-wedge scan (FakeHid reports)', results.wedge),
    row(
      'serial: register told (claim on disk)',
      input.serial.map((t) => t.told),
    ),
    row(
      'wedge: register told (claim on disk)',
      input.wedge.map((t) => t.told),
    ),
    row('wedge: process CPU on the path (all threads)', wedgeCpu),
    row("baseline: raw pty transit, the lane's binding", results.raw),
    row('baseline: one durable commit', results.commit),
  ]);
  const serialMet = p(results.serial, 0.99) <= TARGET_P99_MS;
  const wedgeMet = p(results.wedge, 0.99) <= TARGET_P99_MS;
  console.log(
    `\nserial p99 ${fixed(p(results.serial, 0.99), 3)} ms, ${fixed(p(results.serial, 0.99) - p(results.raw, 0.99), 3)} ms ` +
      `over the raw pty; wedge p99 ${fixed(p(results.wedge, 0.99), 3)} ms (target ≤ ${TARGET_P99_MS} ms: ` +
      `serial ${serialMet ? 'met' : 'missed'}, wedge ${wedgeMet ? 'met' : 'missed'})`,
  );
  const commit99 = p(results.commit, 0.99);
  writeSummary(values.summary, {
    scenario: 'scan path',
    rows: [
      {
        metric: 'serial scan → out of awaiting_scan, p99',
        value: p(results.serial, 0.99),
        unit: 'ms',
        baseline: { name: 'raw pty transit p99', value: p(results.raw, 0.99), unit: 'ms' },
        ratio: p(results.serial, 0.99) / p(results.raw, 0.99),
        target: `≤ ${TARGET_P99_MS} ms`,
        met: serialMet,
      },
      {
        metric: 'keyboard-wedge scan → out of awaiting_scan, p99',
        value: p(results.wedge, 0.99),
        unit: 'ms',
        baseline: { name: 'one durable commit p99', value: commit99, unit: 'ms' },
        ratio: p(results.wedge, 0.99) / commit99,
        target: `≤ ${TARGET_P99_MS} ms`,
        met: wedgeMet,
      },
    ],
  });
}

await main();
