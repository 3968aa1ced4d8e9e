// Scenario 4, start-up: time from spawning `tillgate start --config FILE` to the first 200 from /readyz, with a
// 1,000,000-entry ledger, against the same with an empty ledger (the baseline: Node, modules, config, listen).
// The big database is built fast but for real: one payment row, one ledger entry through Ledger.append (so the
// hash chain is valid) and one outbox row (already synced: done) per payment, in transactions of 100,000. The
// wallet is down (a closed port): start-up must not wait for it. Rounds alternate three processes: a bare Express
// server (the floor of any Node HTTP process), the gateway on an empty ledger (the baseline), the gateway on the big one.
// Building 1,000,000 entries takes minutes, so the file is kept in --cache DIR (default <tmp>/tillgate-bench-cache,
// named by entry count and schema version) and copied for each run; --rebuild makes it again.
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../gateway/db/migrations.js';
import { openDatabase } from '../gateway/db/open.js';
import { databasePath } from '../gateway/gateway.js';
import { Ledger } from '../gateway/ledger/ledger.js';
import { freePort, type GatewaySetup, startGatewayProcess, writeGatewayConfig } from './bench-store.js';
import { type BenchChild, cpuTimeMs, killAll, printLogTails, spawnNode, waitUntilOk } from './children.js';
import { benchArgs, fixed, median, numberOption, printRows, writeSummary } from './support.js';

const USAGE = `Usage: node dist/bench/startup.js [--entries 1000000] [--rounds 5] [--cache DIR] [--rebuild] [--keep]
  [--cpu-prof DIR] [--summary FILE]
  -h, --help  this text

Spawn -> first 200 from /readyz with a 1,000,000-entry ledger, against an empty ledger and a bare Express server.`;
const { values } = benchArgs(USAGE, {
  entries: { type: 'string' },
  rounds: { type: 'string' },
  cache: { type: 'string' },
  rebuild: { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  'cpu-prof': { type: 'string' },
  summary: { type: 'string' },
});
const entries = Math.round(numberOption(values.entries, '--entries', 1_000_000));
const rounds = Math.round(numberOption(values.rounds, '--rounds', 5));
const CHUNK = 100_000;
const TARGET_MS = 500;
const STORE_ID = 'bench-startup';
const LANES = 4;
/** Bump when buildLedger changes what it writes, so an old cached file is not used. */
const BUILDER_VERSION = 1;

const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-startup-'));
const children: BenchChild[] = [];

async function main(): Promise<void> {
  try {
    const walletUrl = `http://127.0.0.1:${await freePort()}`;
    const storeKey = `sk_bench_${randomUUID()}`;
    const empty = await writeGatewayConfig(join(dir, 'empty'), {
      storeId: STORE_ID,
      walletUrl,
      storeKey,
      lanes: LANES,
    });
    const full = await writeGatewayConfig(join(dir, 'full'), {
      storeId: STORE_ID,
      walletUrl,
      storeKey,
      lanes: LANES,
    });
    openDatabase(databasePath(empty)).close(); // the same schema, no rows
    const source = cachedLedger();
    const copied = performance.now();
    mkdirSync(full.dataDir, { recursive: true });
    copyFileSync(source, databasePath(full));
    console.log(`ledger file: ${source}, copied in ${fixed((performance.now() - copied) / 1000, 1)} s`);

    await startFloor(); // the first start of all also brings modules from disk into the page cache
    await startOnce(empty, 'warm-up');
    const times = { floor: [] as Start[], empty: [] as Start[], full: [] as Start[] };
    for (let round = 0; round < rounds; round++) {
      times.floor.push(await startFloor());
      const order = round % 2 === 0 ? (['empty', 'full'] as const) : (['full', 'empty'] as const);
      for (const which of order) {
        const profDir = which === 'full' && round === 0 ? values['cpu-prof'] : undefined;
        times[which].push(await startOnce(which === 'empty' ? empty : full, which, profDir));
      }
    }
    report(times);
  } catch (error) {
    printLogTails(children);
    throw error;
  } finally {
    killAll();
    if (values.keep) console.log(`run directory kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The built ledger file for this entry count and schema, built now if missing (or with --rebuild). */
function cachedLedger(): string {
  const cacheDir = values.cache ?? join(tmpdir(), 'tillgate-bench-cache');
  const file = join(cacheDir, `startup-${entries}-schema${MIGRATIONS.length}-b${BUILDER_VERSION}.sqlite`);
  if (existsSync(file) && !values.rebuild) return file;
  mkdirSync(cacheDir, { recursive: true });
  const building = `${file}.building`;
  rmSync(building, { force: true });
  const built = buildLedger(building, entries);
  renameSync(building, file); // only a finished build is ever reused
  console.log(`built ${entries} entries in ${fixed(built.seconds, 1)} s (${fixed(built.megabytes, 0)} MB)`);
  return file;
}

/** N payments, each with its authorization entry on the chain and its outbox row already synced. */
function buildLedger(file: string, count: number): { seconds: number; megabytes: number } {
  const started = performance.now();
  const db = openDatabase(file);
  // Building is set-up, not the measurement: this connection alone skips fsync and keeps a big page cache.
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const ledger = new Ledger(db);
  const insertPayment = db.prepare(
    `INSERT INTO payments (id, register_id, lane_id, state, amount, currency, order_ref, mode, approved,
       authorization_id, account_id, device_id, counter, code_kind, code_hash, created_at, decided_at, updated_at)
     VALUES (?, 'register-1', 'lane-1', 'approved', ?, 'JPY', ?, 'online', 1, ?, ?, ?, ?, 'pc1', ?, ?, ?, ?)`,
  );
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (kind, ledger_seq, status, attempts, created_at, done_at)
     VALUES ('ledger_entry', ?, 'done', 1, ?, ?)`,
  );
  const start = Date.now() - count * 1000; // one payment a second, ending now
  const chunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const at = start + i * 1000;
      const paymentId = randomUUID();
      const authorizationId = `a_${randomUUID()}`;
      const accountId = (i % 5000).toString(16).padStart(16, '0');
      const deviceId = (i % 7000).toString(16).padStart(16, 'd');
      const amount = 100 + (i % 900);
      insertPayment.run(
        paymentId,
        amount,
        `order-${i}`,
        authorizationId,
        accountId,
        deviceId,
        i + 1,
        randomUUID().replaceAll('-', ''),
        at,
        at,
        at,
      );
      const entry = ledger.append({
        entryId: randomUUID(),
        type: 'authorization',
        mode: 'online',
        paymentId,
        authorizationId,
        amount,
        currency: 'JPY',
        accountId,
        deviceId,
        counter: i + 1,
        laneId: 'lane-1',
        registerId: 'register-1',
        occurredAt: new Date(at).toISOString(),
      });
      insertOutbox.run(entry.seq, at, at);
    }
  });
  for (let from = 0; from < count; from += CHUNK) chunk.immediate(from, Math.min(count, from + CHUNK));
  db.pragma('synchronous = FULL');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pages = db.pragma('page_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  return { seconds: (performance.now() - started) / 1000, megabytes: (pages * pageSize) / 1_048_576 };
}

/** One start: wall time to the first 200, and the CPU time the process had used by then (robust to other load). */
interface Start {
  ms: number;
  cpuMs: number;
}

async function startOnce(setup: GatewaySetup, name: string, profDir?: string): Promise<Start> {
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
  const { child, readyMs, cpuMsAtReady } = await startGatewayProcess(dir, setup, {
    name: `gateway-${name}`,
    ...(profDir === undefined ? {} : { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] }),
  });
  children.push(child);
  await child.stop();
  return { ms: readyMs, cpuMs: cpuMsAtReady };
}

/** A bare Express server's spawn → /readyz: what any Node HTTP process pays on this machine right now. */
async function startFloor(): Promise<Start> {
  const port = await freePort();
  const since = performance.now();
  const child = spawnNode('floor', 'bench/echo-server.js', ['--port', String(port)], {
    logFile: join(dir, 'floor.log'),
  });
  children.push(child);
  const readyMs = await waitUntilOk(`http://127.0.0.1:${port}/readyz`, child, {
    since,
    timeoutMs: 60_000,
    pollMs: 5,
  });
  const cpuMs = cpuTimeMs(child.process.pid!);
  await child.stop();
  return { ms: readyMs, cpuMs };
}

function report(times: { floor: Start[]; empty: Start[]; full: Start[] }): void {
  const ms = (starts: Start[]): number => median(starts.map((t) => t.ms));
  const cpu = (starts: Start[]): number => median(starts.map((t) => t.cpuMs));
  const floor = ms(times.floor);
  const empty = ms(times.empty);
  const full = ms(times.full);
  const met = full <= TARGET_MS;
  const row = (name: string, starts: Start[]): string[] => [
    name,
    fixed(ms(starts), 1),
    starts.map((t) => fixed(t.ms, 0)).join(' / '),
    fixed(ms(starts) / empty),
    fixed(ms(starts) / floor),
    fixed(cpu(starts), 0),
  ];
  printRows(`start-up: spawn → /readyz 200, ${rounds} rounds (ms)`, [
    ['process', 'median', 'rounds', 'ratio to empty ledger', 'ratio to bare Express', 'CPU ms to ready'],
    row('bare Express server (floor)', times.floor),
    row('gateway, empty ledger (baseline)', times.empty),
    row(`gateway, ${entries}-entry ledger`, times.full),
  ]);
  console.log(
    `\nwith ${entries} entries: ${fixed(full, 1)} ms; ${fixed(full - empty, 1)} ms over the empty ledger, ` +
      `${fixed(full - floor, 1)} ms over a bare Express process (target ≤ ${TARGET_MS} ms: ${met ? 'met' : 'missed'})`,
  );
  writeSummary(values.summary, {
    scenario: 'start-up',
    rows: [
      {
        metric: `spawn → /readyz, ${entries}-entry ledger`,
        value: full,
        unit: 'ms',
        baseline: { name: 'empty ledger', value: empty, unit: 'ms' },
        ratio: full / empty,
        target: `≤ ${TARGET_MS} ms`,
        met,
      },
      {
        metric: 'gateway start-up (empty ledger) vs bare Express',
        value: empty,
        unit: 'ms',
        baseline: { name: 'bare Express server', value: floor, unit: 'ms' },
        ratio: empty / floor,
      },
    ],
  });
}

await main();
