// How long `tillgate sync` takes to upload a backlog of N ledger entries (default 1,000,000) to the sandbox wallet
// on loopback, and the uploader's peak RSS. The wallet runs as a child process (bench/sync-wallet.ts); the uploader
// is `tillgate sync --config FILE` in a second child (this file with --role uploader). The entries are offline
// approvals of real enrolled devices with rising counters, so the wallet does its full work for each (one account
// is frozen: 1 in --accounts entries is rejected, a store loss). Baselines in the same run, to read the figure
// against the machine: building the backlog (payment row, Ledger.append, outbox row, in transactions of 100,000),
// and a loop of empty-batch POSTs, one per batch the upload needs (the HTTP round-trip floor). Also the CPU time
// per entry of each side (the uploader's own process.cpuUsage(), the wallet's from /proc over the upload), steadier
// than the time on a shared machine.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ConfigInput } from '../gateway/config.js';
import { openDatabase } from '../gateway/db/open.js';
import { Ledger } from '../gateway/ledger/ledger.js';
import { checkStoreExposure } from '../gateway/offline/state.js';
import { HttpWalletClient } from '../gateway/wallet-client/http-wallet-client.js';
import { syncStatus } from '../sync/status.js';
import { runSyncCommand } from '../sync/sync-command.js';
import { SandboxPhone } from '../wallet/sandbox-phone.js';
import { benchArgs, distPath, writeSummary } from './support.js';

const BUILD_CHUNK = 100_000;
const AMOUNT = 100;

interface WalletProcess {
  process: ChildProcess;
  url: string;
  adminKey: string;
  storeId: string;
  storeKey: string;
}

interface Customer {
  accountId: string;
  deviceId: string;
}

const USAGE = `Usage: node dist/bench/sync-backlog.js [--entries 1000000] [--accounts 100] [--batch 1000] [--keep] [--summary FILE]
  [--cpu-prof DIR] (both children write V8 CPU profiles there: node --cpu-prof --cpu-prof-dir DIR)
  -h, --help  this text

\`tillgate sync\` uploading a backlog of --entries ledger entries to the sandbox wallet: time, entries/s, peak RSS.`;
const { values } = benchArgs(USAGE, {
  entries: { type: 'string', default: '1000000' },
  accounts: { type: 'string', default: '100' },
  batch: { type: 'string', default: '1000' },
  role: { type: 'string' },
  config: { type: 'string' },
  keep: { type: 'boolean', default: false },
  summary: { type: 'string' },
  'cpu-prof': { type: 'string' },
});

/** Node flags for the two children: a CPU profile each when asked. */
const childFlags =
  values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']];

if (values.role === 'uploader') await uploaderRole(values.config!);
else await main(Number(values.entries), Number(values.accounts), values.keep);

/** Entries per upload batch (sync.batchEntriesMax; the wallet takes at most 1000). */
function batchSize(): number {
  return Number(values.batch);
}

/** The child: `tillgate sync`, then its own peak RSS as a last JSON line. */
async function uploaderRole(configFile: string): Promise<void> {
  const code = await runSyncCommand(['--config', configFile, '--json'], {
    stdout: process.stdout,
    stderr: process.stderr,
  });
  const memory = process.memoryUsage();
  const { user, system } = process.cpuUsage();
  const last = { maxRssKb: process.resourceUsage().maxRSS, memory, cpuMs: (user + system) / 1000 };
  process.stdout.write(`${JSON.stringify(last)}\n`);
  process.exit(code);
}

async function main(entries: number, accounts: number, keep: boolean): Promise<void> {
  if (!Number.isSafeInteger(entries) || entries < 1 || !Number.isSafeInteger(accounts) || accounts < 2) {
    throw new Error('--entries ≥ 1 and --accounts ≥ 2, whole numbers');
  }
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-sync-'));
  const wallet = await spawnWallet(join(dir, 'wallet.sqlite'));
  try {
    const customers = await enroll(wallet, accounts);
    await admin(wallet, `/v1/sandbox/accounts/${customers[0]!.accountId}/freeze`, {});
    // The HTTP floor first: the build blocks this event loop for seconds, long enough for the wallet to close
    // idle keep-alive sockets under a client that has not yet seen it.
    const floorMs = await emptyBatchLoop(wallet, Math.ceil(entries / batchSize()));
    const dbFile = join(dir, 'gateway', 'gateway.sqlite');
    const buildMs = buildBacklog(dbFile, customers, entries);
    const walletCpuBefore = cpuMsOf(wallet.process.pid!);
    const upload = await runUploader(writeConfig(dir, wallet));
    const walletCpuMs = cpuMsOf(wallet.process.pid!) - walletCpuBefore;
    const check = await verify(wallet, dbFile, entries, Math.ceil(entries / accounts));
    report({ entries, accounts, buildMs, floorMs, walletCpuMs, ...upload, ...check });
  } finally {
    const exited = new Promise((resolve) => wallet.process.once('exit', resolve));
    wallet.process.kill('SIGTERM');
    await exited;
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function spawnWallet(dbPath: string): Promise<WalletProcess> {
  const child = spawn(process.execPath, [...childFlags, distPath('bench/sync-wallet.js'), '--db', dbPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the wallet exited with ${code}`)));
  });
  return { process: child, ...(JSON.parse(first) as Omit<WalletProcess, 'process'>) };
}

async function admin(wallet: WalletProcess, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(wallet.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${wallet.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

async function enroll(wallet: WalletProcess, accounts: number): Promise<Customer[]> {
  const customers: Customer[] = [];
  for (let i = 0; i < accounts; i++) {
    const { accountId } = (await admin(wallet, '/v1/sandbox/accounts', { balance: 1_000_000_000 })) as {
      accountId: string;
    };
    const phone = await SandboxPhone.enroll(wallet.url, wallet.adminKey, accountId);
    customers.push({ accountId, deviceId: phone.deviceId });
  }
  return customers;
}

/**
 * Offline approvals spread over the customers' devices, each device's counter rising by one per entry, written as
 * the gateway writes one: the approved payment, its ledger entry, the entry's outbox row. The payment row matters to
 * the upload: the exposure counters' triggers (migrations 3 and 4) join it, and each row the upload marks moves them.
 */
function buildBacklog(dbFile: string, customers: Customer[], entries: number): number {
  const startedAt = performance.now();
  const db = openDatabase(dbFile);
  const ledger = new Ledger(db);
  const pay = db.prepare(
    `INSERT INTO payments (id, register_id, lane_id, state, amount, currency, order_ref, mode, approved,
       authorization_id, account_id, device_id, counter, code_kind, created_at, decided_at, updated_at)
     VALUES (@id, 'register-1', 'lane-1', 'approved', @amount, 'JPY', @id, 'offline', 1, @authorizationId,
       @accountId, @deviceId, @counter, 'pc1', @at, @at, @at)`,
  );
  const enqueue = db.prepare(
    "INSERT INTO outbox (kind, ledger_seq, created_at) VALUES ('ledger_entry', ?, ?)",
  );
  const base = Date.now() - entries;
  for (let start = 0; start < entries; start += BUILD_CHUNK) {
    db.transaction(() => {
      for (let i = start; i < Math.min(entries, start + BUILD_CHUNK); i++) {
        const customer = customers[i % customers.length]!;
        const counter = Math.floor(i / customers.length) + 1;
        pay.run({
          id: `p${i}`,
          amount: AMOUNT,
          authorizationId: `a${i}`,
          accountId: customer.accountId,
          deviceId: customer.deviceId,
          counter,
          at: base + i,
        });
        const entry = ledger.append({
          entryId: `e${i}`,
          type: 'authorization',
          mode: 'offline',
          paymentId: `p${i}`,
          authorizationId: `a${i}`,
          amount: AMOUNT,
          currency: 'JPY',
          accountId: customer.accountId,
          deviceId: customer.deviceId,
          counter,
          laneId: 'lane-1',
          registerId: 'register-1',
          occurredAt: new Date(base + i).toISOString(),
        });
        enqueue.run(entry.seq, base + i);
      }
    })();
  }
  db.close();
  return performance.now() - startedAt;
}

/** The HTTP floor: as many POST /v1/ledger/batches round trips as the upload makes, with nothing in them. */
async function emptyBatchLoop(wallet: WalletProcess, batches: number): Promise<number> {
  const client = new HttpWalletClient({ url: wallet.url, storeKey: wallet.storeKey });
  const startedAt = performance.now();
  for (let i = 0; i < batches; i++) {
    await client.uploadBatch(
      { storeId: wallet.storeId, batchId: `empty-${i}`, entries: [] },
      AbortSignal.timeout(30_000),
    );
  }
  return performance.now() - startedAt;
}

function writeConfig(dir: string, wallet: WalletProcess): string {
  const file = join(dir, 'gateway.json');
  const config: ConfigInput = {
    storeId: wallet.storeId,
    dataDir: join(dir, 'gateway'),
    wallet: { url: wallet.url, storeKey: wallet.storeKey },
    registers: [{ id: 'register-1', laneId: 'lane-1', keySha256: 'a'.repeat(64) }],
    lanes: [{ id: 'lane-1' }],
    sync: { batchEntriesMax: batchSize(), callTimeoutMs: 60_000, leaseTtlMs: 120_000 },
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Runs `tillgate sync` in a child and samples its VmHWM (peak resident set) from /proc while it runs. */
async function runUploader(
  configFile: string,
): Promise<{ uploadMs: number; peakRssKb: number; uploaderCpuMs: number; exitCode: number | null }> {
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [...childFlags, distPath('bench/sync-backlog.js'), '--role', 'uploader', '--config', configFile],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += String(chunk);
  });
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    peakRssKb = Math.max(peakRssKb, vmHwmKb(child.pid!));
  }, 100);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  const uploadMs = performance.now() - startedAt;
  const lines = output.trim().split('\n');
  const self = JSON.parse(lines.at(-1)!) as { maxRssKb: number; memory: NodeJS.MemoryUsage; cpuMs: number };
  console.log(`uploader memory at exit: ${JSON.stringify(self.memory)}`);
  return { uploadMs, peakRssKb: Math.max(peakRssKb, self.maxRssKb), uploaderCpuMs: self.cpuMs, exitCode };
}

function vmHwmKb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process so far, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function verify(wallet: WalletProcess, dbFile: string, entries: number, frozenEntries: number) {
  const response = await fetch(
    `${wallet.url}/v1/sandbox/stores/${wallet.storeId}/settled?afterSeq=${entries - 1}`,
    {
      headers: { authorization: `Bearer ${wallet.adminKey}` },
    },
  );
  const { entries: last } = (await response.json()) as { entries: { seq: number }[] };
  const db = openDatabase(dbFile);
  const status = syncStatus(db);
  // Every entry answered releases its exposure: the triggers' counters must agree with the ledger, and be 0.
  const exposure = checkStoreExposure(db);
  db.close();
  const ok =
    last.length === 1 &&
    last[0]!.seq === entries &&
    status.pending === 0 &&
    status.rejected === frozenEntries &&
    exposure?.ok === true &&
    exposure.counter === 0;
  return { ok, settled: status.settled, rejected: status.rejected };
}

function report(r: {
  entries: number;
  accounts: number;
  buildMs: number;
  floorMs: number;
  uploadMs: number;
  peakRssKb: number;
  uploaderCpuMs: number;
  walletCpuMs: number;
  exitCode: number | null;
  ok: boolean;
  settled: number;
  rejected: number;
}): void {
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `\nSync backlog: ${r.entries} entries over ${r.accounts} devices (exit ${r.exitCode}, verified ${r.ok})\n`,
  );
  console.log('| what | time | entries/s | ratio to upload |');
  console.log('|---|---:|---:|---:|');
  const row = (name: string, ms: number) =>
    console.log(
      `| ${name} | ${sec(ms)} | ${Math.round(r.entries / (ms / 1000))} | ${(ms / r.uploadMs).toFixed(2)}× |`,
    );
  row('upload (`tillgate sync`, child process, incl. start)', r.uploadMs);
  row('baseline: build the backlog locally (payment + Ledger.append + outbox)', r.buildMs);
  row(`baseline: ${Math.ceil(r.entries / batchSize())} empty-batch POSTs (HTTP floor)`, r.floorMs);
  console.log(
    `\npeak RSS of the uploader: ${(r.peakRssKb / 1024).toFixed(0)} MB; settled ${r.settled}, rejected ${r.rejected}`,
  );
  const perEntryUs = (ms: number) => ((ms * 1000) / r.entries).toFixed(1);
  console.log(
    `CPU per entry: uploader ${perEntryUs(r.uploaderCpuMs)} µs (incl. start), wallet ${perEntryUs(r.walletCpuMs)} µs`,
  );
  if (!r.ok || r.exitCode !== 0) process.exitCode = 1;
  summarize(r);
}

/** The figures for bench/run.ts (--summary FILE): time and RSS against their targets, read against the build. */
function summarize(r: {
  entries: number;
  buildMs: number;
  floorMs: number;
  uploadMs: number;
  peakRssKb: number;
  uploaderCpuMs: number;
  walletCpuMs: number;
}): void {
  const uploadSec = r.uploadMs / 1000;
  const rssMb = r.peakRssKb / 1024;
  // The targets are stated for a backlog of 1,000,000 entries.
  const full = r.entries === 1_000_000;
  const build = { name: 'build the backlog locally', value: r.buildMs / 1000, unit: 's' };
  writeSummary(values.summary, {
    scenario: 'sync-backlog',
    rows: [
      {
        metric: `upload ${r.entries} entries`,
        value: uploadSec,
        unit: 's',
        baseline: build,
        ratio: r.uploadMs / r.buildMs,
        ...(full ? { target: '≤ 60 s', met: uploadSec <= 60 } : {}),
      },
      {
        metric: 'entries/s',
        value: r.entries / uploadSec,
        unit: '/s',
        // The round-trip floor as a rate: as many entries through batches that carry none.
        baseline: { name: 'empty-batch POST loop', value: r.entries / (r.floorMs / 1000), unit: '/s' },
        ratio: r.floorMs / r.uploadMs,
      },
      {
        metric: 'peak RSS of the uploader',
        value: rssMb,
        unit: 'MB',
        ...(full ? { target: '≤ 150 MB', met: rssMb <= 150 } : {}),
      },
      { metric: 'uploader CPU per entry', value: (r.uploaderCpuMs * 1000) / r.entries, unit: 'µs' },
      { metric: 'wallet CPU per entry', value: (r.walletCpuMs * 1000) / r.entries, unit: 'µs' },
    ],
  });
}
