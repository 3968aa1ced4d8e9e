// Scenario 3, the raw durable commit ceiling: single-row SQLite commits per second with WAL + synchronous=FULL on the
// disk the gateway uses (the temp dir), and, in the same rounds, one ledger entry + outbox row per commit through the
// real Ledger — so the gateway's rates can be read against what the disk allows. Rounds alternate the two.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedgerCommits, openRawCommitTable, timeCommits } from './commit-probe.js';
import {
  benchArgs,
  fixed,
  median,
  numberOption,
  percentile,
  printRows,
  seededRandom,
  writeSummary,
} from './support.js';

const USAGE = `Usage: node dist/bench/durable-commits.js [--duration 12] [--rounds 3] [--seed 1] [--summary FILE]
  -h, --help  this text

Single-row durable commits/s (WAL + synchronous=FULL) and ledger entry + outbox row commits/s, alternating rounds.`;
const { values } = benchArgs(USAGE, {
  duration: { type: 'string' },
  rounds: { type: 'string' },
  seed: { type: 'string' },
  summary: { type: 'string' },
});
const durationSec = numberOption(values.duration, '--duration', 12);
const rounds = Math.round(numberOption(values.rounds, '--rounds', 3));
const random = seededRandom(numberOption(values.seed, '--seed', 1));
const phaseMs = (durationSec * 1000) / (rounds * 2);

const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-commits-'));
try {
  const raw = openRawCommitTable(join(dir, 'raw.sqlite'));
  const ledger = openLedgerCommits(join(dir, 'ledger.sqlite'));
  const payload = Array.from({ length: 200 }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join(
    '',
  );
  const rawRuns = [];
  const ledgerRuns = [];
  for (let round = 0; round < rounds; round++) {
    rawRuns.push(timeCommits(() => raw(payload), phaseMs));
    ledgerRuns.push(timeCommits(ledger, phaseMs));
  }
  const rawRate = median(rawRuns.map((r) => r.perSec));
  const ledgerRate = median(ledgerRuns.map((r) => r.perSec));
  const rawLatencies = rawRuns.flatMap((r) => r.latencies);
  const ledgerLatencies = ledgerRuns.flatMap((r) => r.latencies);
  printRows(
    `durable commits (WAL + synchronous=FULL, ${dir}), ${rounds} rounds of ${fixed(phaseMs / 1000, 1)} s`,
    [
      ['commit', 'commits/s (median of rounds)', 'rounds', 'p50 ms', 'p99 ms', 'ratio to raw'],
      [
        'single-row INSERT (ceiling)',
        fixed(rawRate, 0),
        rawRuns.map((r) => fixed(r.perSec, 0)).join(' / '),
        fixed(percentile(rawLatencies, 0.5), 3),
        fixed(percentile(rawLatencies, 0.99), 3),
        '1.00',
      ],
      [
        'ledger entry + outbox row',
        fixed(ledgerRate, 0),
        ledgerRuns.map((r) => fixed(r.perSec, 0)).join(' / '),
        fixed(percentile(ledgerLatencies, 0.5), 3),
        fixed(percentile(ledgerLatencies, 0.99), 3),
        fixed(ledgerRate / rawRate),
      ],
    ],
  );
  writeSummary(values.summary, {
    scenario: 'durable commits',
    rows: [
      {
        metric: 'single-row durable commits/s',
        value: rawRate,
        unit: 'commits/s',
        target: 'ceiling (no target)',
      },
      {
        metric: 'ledger entry commits/s',
        value: ledgerRate,
        unit: 'commits/s',
        baseline: { name: 'single-row commit', value: rawRate, unit: 'commits/s' },
        ratio: ledgerRate / rawRate,
      },
    ],
    notes: [
      `commit p50 ${fixed(percentile(rawLatencies, 0.5), 3)} ms, p99 ${fixed(percentile(rawLatencies, 0.99), 3)} ms`,
    ],
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
