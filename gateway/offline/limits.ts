// The offline limits in force: config `offline.*` with the risk feed's changes laid over it, name by name.
// Each changed name is validated with the config's own schema; one the schema refuses is ignored (and
// reported), so a bad value from the feed can never loosen or break a limit it does not name.
import { OfflineConfigSchema } from '../config.js';
import type { OfflineLimits } from './rules.js';

export interface EffectiveLimits {
  limits: OfflineLimits;
  /** Names the feed set, e.g. `storeLimit`, `velocity.maxPayments`. */
  fromFeed: string[];
  /** Names the feed sent that the schema refused (unknown name or bad value). */
  ignored: string[];
}

export function mergeLimits(config: OfflineLimits, stored: string | null): EffectiveLimits {
  const result: EffectiveLimits = { limits: config, fromFeed: [], ignored: [] };
  if (stored === null) return result;
  let changes: unknown;
  try {
    changes = JSON.parse(stored);
  } catch {
    result.ignored.push('(not JSON)');
    return result;
  }
  if (!isPlainObject(changes)) {
    result.ignored.push('(not an object)');
    return result;
  }
  for (const [name, value] of Object.entries(changes)) {
    if (name === 'velocity' && isPlainObject(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        const velocity = { ...result.limits.velocity, [inner]: innerValue };
        apply(result, `velocity.${inner}`, { ...result.limits, velocity });
      }
    } else {
      apply(result, name, { ...result.limits, [name]: value });
    }
  }
  return result;
}

function apply(result: EffectiveLimits, name: string, candidate: unknown): void {
  const parsed = OfflineConfigSchema.safeParse(candidate);
  if (parsed.success) {
    result.limits = parsed.data;
    result.fromFeed.push(name);
  } else {
    result.ignored.push(name);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
