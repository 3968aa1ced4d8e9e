// Settings shared by the crash, fault, attack and fuzz suites. Inside `npm test` every suite runs its fast
// version; `npm run test:chaos` sets TILLGATE_CHAOS=long (and the options below) for the long version.
//
//   TILLGATE_CHAOS=long         run the long version
//   TILLGATE_CHAOS_SEED=n       the seed of every random choice (default: a fresh one, printed by each suite)
//   TILLGATE_CHAOS_ROUNDS=n     crash rounds, fuzz runs, … (each suite scales its own count from it)
//   TILLGATE_CHAOS_MINUTES=n    wall-clock budget of the time-boxed suites (faults under flapping)
import { randomInt } from 'node:crypto';

export interface ChaosSettings {
  /** The long version (npm run test:chaos). */
  long: boolean;
  seed: number;
  /** Explicit round count, when given; suites fall back to their own fast/long defaults. */
  rounds: number | undefined;
  /** Explicit time budget in minutes, when given. */
  minutes: number | undefined;
}

function positiveInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function chaosSettings(): ChaosSettings {
  return {
    long: process.env.TILLGATE_CHAOS === 'long',
    seed: positiveInt('TILLGATE_CHAOS_SEED') ?? randomInt(1, 2 ** 31 - 1),
    rounds: positiveInt('TILLGATE_CHAOS_ROUNDS'),
    minutes: positiveInt('TILLGATE_CHAOS_MINUTES'),
  };
}

/** The count a suite runs: the explicit one, else its long or fast default. */
export function chaosCount(settings: ChaosSettings, fast: number, long: number): number {
  return settings.rounds ?? (settings.long ? long : fast);
}

/** One line for the test output: what the suite tried and what held. */
export function chaosReport(suite: string, figures: Record<string, number | string>): void {
  const parts = Object.entries(figures).map(([key, value]) => `${key}=${value}`);
  process.stdout.write(`[chaos] ${suite}: ${parts.join(' ')}\n`);
}

/**
 * Waits until `check` holds, polling every 50 ms; past `timeoutMs` it fails naming `what` (and `detail()`, e.g.
 * the seed to run again with and the child's output).
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${what}${detail === undefined ? '' : ` (${detail()})`}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sync paced for the chaos suites: small batches, quick retries and polls, so a drain takes seconds. */
export const CHAOS_SYNC = {
  batchEntriesMax: 50,
  retryInitialDelayMs: 20,
  retryMaxDelayMs: 300,
  callTimeoutMs: 1_000,
  feedWaitMs: 1_000,
  feedPollIntervalMs: 100,
  idleIntervalMs: 50,
  leaseTtlMs: 5_000,
} as const;
