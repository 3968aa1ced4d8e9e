// `npm run bench`: every scenario in sequence, each a child process with its own output, then one summary of the
// figures each left behind (--summary FILE) with its baseline, ratio and target. The machine and the command come
// first, for docs/benchmarks.md. Scenarios written elsewhere (bench/sync-*.ts) are run by file name when built.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, spawnNode } from './children.js';
import { benchArgs, distPath, fixed, printRows, type ScenarioSummary } from './support.js';

interface Scenario {
  name: string;
  script: string;
  args: string[];
  quickArgs: string[];
  /** Whether it writes --summary FILE (scenarios of others may not). */
  summary: boolean;
  /** Programs it runs from PATH, checked before the run starts (a full run takes minutes). */
  needs?: { command: string; versionArg: string; install: string }[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'durable-commits',
    script: 'bench/durable-commits.js',
    args: [],
    quickArgs: ['--duration', '3'],
    summary: true,
  },
  {
    name: 'offline-throughput',
    script: 'bench/offline-throughput.js',
    args: [],
    quickArgs: ['--duration', '2', '--rounds', '1', '--devices', '50'],
    summary: true,
  },
  {
    name: 'online-latency',
    script: 'bench/online-latency.js',
    args: [],
    quickArgs: ['--duration', '4', '--block', '1', '--devices', '20'],
    summary: true,
  },
  // The same at a rate this two-core machine sustains with the wallet beside the gateway: what the gateway adds
  // when nothing queues (200 req/s saturates it, and then the figure is the queue's).
  {
    name: 'online-latency-50',
    script: 'bench/online-latency.js',
    args: ['--rate', '50'],
    quickArgs: ['--rate', '50', '--duration', '4', '--block', '1', '--devices', '20'],
    summary: true,
  },
  {
    name: 'startup',
    script: 'bench/startup.js',
    args: [],
    quickArgs: ['--entries', '20000', '--rounds', '1'],
    summary: true,
  },
  {
    name: 'scan-path',
    script: 'bench/scan-path.js',
    // A p99 of 100 scans is their second-slowest; of 300, the third-slowest of three times as many (~2.5 min).
    args: ['--scans', '300'],
    quickArgs: ['--scans', '10'],
    summary: true,
    needs: [{ command: 'socat', versionArg: '-V', install: 'apt-get install socat' }],
  },
  {
    name: 'demo-checkout',
    script: 'bench/demo-checkout.js',
    args: [],
    quickArgs: ['--loops', '20'],
    summary: false,
  },
  {
    name: 'sync-backlog',
    script: 'bench/sync-backlog.js',
    args: [],
    quickArgs: ['--entries', '20000'],
    summary: true,
  },
  {
    name: 'freeze-propagation',
    script: 'bench/freeze-propagation.js',
    args: [],
    quickArgs: ['--freezes', '10'],
    summary: true,
  },
];

const USAGE = `Usage: node dist/bench/run.js [--only a,b] [--skip a,b] [--quick]
  --quick   shorter runs of every scenario (a smoke run; not for docs/benchmarks.md)
  -h, --help  this text

Every scenario in sequence, then one summary table (figure, baseline, ratio, target).`;
const { values } = benchArgs(USAGE, {
  only: { type: 'string' },
  skip: { type: 'string' },
  quick: { type: 'boolean', default: false },
});
const only = values.only?.split(',');
const skip = values.skip?.split(',') ?? [];
const unknown = [...(only ?? []), ...skip].filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
const selected = SCENARIOS.filter(
  (scenario) => (only === undefined || only.includes(scenario.name)) && !skip.includes(scenario.name),
);
const missing = selected.flatMap((scenario) =>
  (scenario.needs ?? [])
    .filter((need) => spawnSync(need.command, [need.versionArg], { stdio: 'ignore' }).error !== undefined)
    .map((need) => ({ scenario: scenario.name, need })),
);
if (missing.length > 0) {
  // Said before the first scenario, not minutes into the run.
  for (const { scenario, need } of missing) {
    console.error(`${scenario} needs ${need.command}, not found on PATH (Debian/Ubuntu: ${need.install})`);
  }
  const names = [...new Set(missing.map((m) => m.scenario))].join(',');
  console.error(`Install it and run again, or leave it out: --skip ${names}`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-run-'));
const outcomes: { scenario: Scenario; code: number | null; seconds: number; summary?: ScenarioSummary }[] =
  [];
try {
  printMachine();
  for (const scenario of selected) {
    if (!existsSync(distPath(scenario.script))) {
      console.log(`\n## ${scenario.name}: ${scenario.script} is not built; skipped`);
      continue;
    }
    outcomes.push(await runScenario(scenario));
  }
  printSummary();
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
if (outcomes.some((o) => o.code !== 0)) process.exitCode = 1;

function printMachine(): void {
  const command = `node ${process.argv.slice(1).join(' ')}`.replace(distPath(''), 'dist/');
  console.log('# tillgate benchmarks');
  console.log(`date: ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpus().length} CPUs (nproc ${nproc()}), ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => fixed(l))
      .join(' ')}`,
  );
  console.log(`command: ${command}${values.quick ? ' (quick: not for docs/benchmarks.md)' : ''}`);
}

function nproc(): string {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

async function runScenario(
  scenario: Scenario,
): Promise<{ scenario: Scenario; code: number | null; seconds: number; summary?: ScenarioSummary }> {
  const summaryFile = join(dir, `${scenario.name}.json`);
  const args = [
    ...(values.quick ? scenario.quickArgs : scenario.args),
    ...(scenario.summary ? ['--summary', summaryFile] : []),
  ];
  console.log(
    `\n## ${scenario.name}: node dist/${scenario.script} ${args.filter((a) => a !== summaryFile && a !== '--summary').join(' ')}`,
  );
  const started = performance.now();
  const child = spawnNode(scenario.name, scenario.script, args, {});
  const code = await new Promise<number | null>((resolve) => child.process.once('exit', (c) => resolve(c)));
  const seconds = (performance.now() - started) / 1000;
  console.log(`(${scenario.name}: exit ${code}, ${fixed(seconds, 0)} s)`);
  const summary = existsSync(summaryFile)
    ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as ScenarioSummary)
    : undefined;
  return { scenario, code, seconds, ...(summary === undefined ? {} : { summary }) };
}

function printSummary(): void {
  const rows: string[][] = [['scenario', 'figure', 'value', 'baseline (same run)', 'ratio', 'target', 'met']];
  for (const { scenario, code, summary } of outcomes) {
    if (summary === undefined || summary.rows.length === 0) {
      const note =
        summary?.notes?.join('; ') ?? (code === 0 ? 'see its output above' : `failed (exit ${code})`);
      rows.push([scenario.name, note, '', '', '', '', '']);
      continue;
    }
    for (const row of summary.rows) {
      rows.push([
        summary.scenario,
        row.metric,
        `${fixed(row.value, row.unit === 'ms' ? 2 : 0)} ${row.unit}`,
        row.baseline === undefined
          ? ''
          : `${row.baseline.name}: ${fixed(row.baseline.value, row.baseline.unit === 'ms' ? 2 : 0)} ${row.baseline.unit}`,
        row.ratio === undefined ? '' : fixed(row.ratio),
        row.target ?? '',
        row.met === undefined ? '' : row.met ? 'yes' : 'no',
      ]);
    }
  }
  printRows('summary', rows);
  const total = outcomes.reduce((s, o) => s + o.seconds, 0);
  console.log(
    `\n${outcomes.length} scenarios in ${fixed(total / 60, 1)} min; load average at the end: ${loadavg()
      .map((l) => fixed(l))
      .join(' ')}`,
  );
}
