// Helpers shared by the benchmark scripts: paths into dist/, waiting, order statistics, a seeded generator, and
// the summary every scenario can leave for bench/run.ts (--summary FILE). Figures are computed, never written in.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A path inside dist/ (benchmarks run compiled, from dist/bench/). */
export function distPath(relative: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', relative);
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** Prints rows of [name, median, p99, ratio to baseline] as a Markdown table. */
export function printTable(title: string, rows: [string, number, number, number][]): void {
  console.log(`\n${title}\n`);
  console.log('| scenario | median | p99 | ratio to baseline |');
  console.log('|---|---:|---:|---:|');
  for (const [name, med, p99, ratio] of rows) {
    console.log(`| ${name} | ${med.toFixed(2)} | ${p99.toFixed(2)} | ${ratio.toFixed(1)}× |`);
  }
}

/** Prints a Markdown table of strings (the first row is the header). */
export function printRows(title: string, rows: string[][]): void {
  console.log(`\n${title}\n`);
  const [head, ...body] = rows;
  console.log(`| ${head!.join(' | ')} |`);
  console.log(`|${head!.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of body) console.log(`| ${row.join(' | ')} |`);
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** mulberry32: a small seeded generator, so that a run's choices can be repeated with --seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Prints the problem and the usage to stderr and exits 2, as a command line's usage error does. */
export function usageExit(message: string, usage?: string): never {
  console.error(usage === undefined ? `${message} (--help lists the options)` : `${message}\n\n${usage}`);
  process.exit(2);
}

/**
 * A bench script's options: `-h`/`--help` prints `usage` and exits 0; an unknown option or a missing value prints
 * what was wrong and the usage, and exits 2 (no stack trace).
 */
export function benchArgs<const T extends NonNullable<ParseArgsConfig['options']>>(
  usage: string,
  options: T,
) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    return usageExit(error instanceof Error ? error.message : String(error), usage);
  }
}

/** Options most scenarios take: the seed, a run directory kept, the summary for run.ts, CPU profiles. */
export const RUN_OPTIONS = {
  seed: { type: 'string' },
  'cpu-prof': { type: 'string' },
  keep: { type: 'boolean', default: false },
  summary: { type: 'string' },
} as const;

/** Positive number from an option string; a bad value is a usage error (exit 2), not a silent default. */
export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) usageExit(`${name}: expected a positive number, got "${value}"`);
  return n;
}

/** One line of the run summary: a figure, the baseline it is read against, and the target when there is one. */
export interface SummaryRow {
  metric: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  /** value ÷ baseline (or the figure a target is stated in, when that is a ratio). */
  ratio?: number;
  target?: string;
  met?: boolean;
}

export interface ScenarioSummary {
  scenario: string;
  rows: SummaryRow[];
  notes?: string[];
}

/** Writes the scenario's summary for bench/run.ts when --summary FILE was given. */
export function writeSummary(file: string | undefined, summary: ScenarioSummary): void {
  if (file !== undefined) writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
}
