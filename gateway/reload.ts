// What a configuration reload (SIGHUP, `systemctl reload tillgate`) may change in a running gateway: register
// keys, operators and the store key take effect at once, so keys rotate without downtime; anything else that
// changed is named as needing a restart. A file that would break the running gateway is refused whole.
import type { Config } from './config.js';

/** Dotted names of what a reload applies; values are never reported (they hold key hashes and keys). */
export const RELOADABLE = ['registers', 'operators', 'wallet.storeKey'] as const;
export type Reloadable = (typeof RELOADABLE)[number];

export interface ReloadPlan {
  /** Changed and applied now. */
  applied: Reloadable[];
  /** Changed, but in effect only after a restart. */
  restartNeeded: string[];
}

export class ReloadRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReloadRefused';
  }
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planReload(current: Config, next: Config): ReloadPlan {
  if (next.storeId !== current.storeId) throw new ReloadRefused('storeId cannot change in a running gateway');
  const lanes = new Set(current.lanes.map((lane) => lane.id));
  const stranger = next.registers.find((r) => !lanes.has(r.laneId));
  if (stranger !== undefined) {
    throw new ReloadRefused(
      `register ${stranger.id} is on lane ${stranger.laneId}, which the running gateway does not have (lanes change on restart)`,
    );
  }
  const applied: Reloadable[] = [];
  if (!same(current.registers, next.registers)) applied.push('registers');
  if (!same(current.operators, next.operators)) applied.push('operators');
  if (current.wallet.storeKey !== next.wallet.storeKey) applied.push('wallet.storeKey');
  const restartNeeded: string[] = [];
  for (const key of Object.keys(next) as (keyof Config)[]) {
    if (key === 'registers' || key === 'operators' || key === 'wallet') continue;
    if (!same(current[key], next[key])) restartNeeded.push(key);
  }
  for (const key of Object.keys(next.wallet) as (keyof Config['wallet'])[]) {
    if (key !== 'storeKey' && current.wallet[key] !== next.wallet[key]) restartNeeded.push(`wallet.${key}`);
  }
  return { applied, restartNeeded };
}
