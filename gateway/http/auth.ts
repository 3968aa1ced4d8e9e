// Register authentication: `Authorization: Bearer <register key>`, looked up by its SHA-256 (the config holds
// only hashes). Runs before any body is read, so an unauthenticated caller costs no parsing. Failed attempts
// drain a token bucket per source address; a source with an empty bucket gets 429 with Retry-After before its
// key is even hashed, so guessing keys costs the guesser time and the gateway nothing.
import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Counter, type Registry } from 'prom-client';
import { GatewayError } from '../errors.js';

export interface Register {
  id: string;
  laneId: string;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A new random key: 32 bytes, base64url, after a prefix that names its kind (`rk_` register, `op_` operator,
 * `sk_` store, `adm_` sandbox admin). The prefix also means a key never begins with `-`, which a command line
 * would read as an option (`--admin-key -…`).
 */
export function newKey(prefix: `${string}_`): string {
  return prefix + randomBytes(32).toString('base64url');
}

export interface RegisterEntry extends Register {
  keySha256: string;
  /** During a rotation, the register's second key. */
  nextKeySha256?: string | undefined;
}

/** The registers by key hash; replace() swaps them at once (a config reload), so no request sees half a set. */
export class RegisterKeys {
  #byHash = new Map<string, Register>();

  constructor(registers: readonly RegisterEntry[]) {
    this.replace(registers);
  }

  replace(registers: readonly RegisterEntry[]): void {
    const byHash = new Map<string, Register>();
    for (const r of registers) {
      byHash.set(r.keySha256, { id: r.id, laneId: r.laneId });
      if (r.nextKeySha256 !== undefined) byHash.set(r.nextKeySha256, { id: r.id, laneId: r.laneId });
    }
    this.#byHash = byHash;
  }

  lookup(key: string): Register | undefined {
    return this.#byHash.get(sha256Hex(key));
  }
}

/** The credential of `Authorization: Bearer <key>`, or undefined. */
export function bearerOf(req: Request): string | undefined {
  return BEARER.exec(req.get('authorization') ?? '')?.[1];
}

export interface AuthFailureLimits {
  /** Failures a source may make in a row before it must wait. */
  burst: number;
  /** Failures a source earns back per minute. */
  perMinute: number;
  /** Sources remembered at once; beyond it the fullest (least suspicious) buckets are forgotten first. */
  sourcesMax: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets of failed authentications, one per source, in memory. A bucket starts full (`burst`), loses one
 * token per failure and refills at `perMinute`; successes never touch it. Only sources that failed are kept.
 */
export class AuthFailureLimiter {
  readonly #limits: AuthFailureLimits;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: AuthFailureLimits, now: () => number = Date.now) {
    if (limits.burst < 1 || limits.perMinute <= 0 || limits.sourcesMax < 1)
      throw new Error('AuthFailureLimiter: burst, perMinute and sourcesMax must be positive');
    this.#limits = limits;
    this.#now = now;
  }

  /** 0 when the source may try; otherwise the whole seconds until its next try. */
  retryAfterSec(source: string): number {
    const bucket = this.#refilled(source);
    if (bucket === undefined || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / this.#limits.perMinute));
  }

  failed(source: string): void {
    const bucket = this.#refilled(source) ?? { tokens: this.#limits.burst, at: this.#now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.#buckets.delete(source);
    this.#buckets.set(source, bucket);
    if (this.#buckets.size > this.#limits.sourcesMax) this.#evict();
  }

  get size(): number {
    return this.#buckets.size;
  }

  #refilled(source: string): Bucket | undefined {
    const bucket = this.#buckets.get(source);
    if (bucket === undefined) return undefined;
    const now = this.#now();
    const earned = (Math.max(0, now - bucket.at) * this.#limits.perMinute) / 60_000;
    bucket.tokens = Math.min(this.#limits.burst, bucket.tokens + earned);
    bucket.at = now;
    if (bucket.tokens >= this.#limits.burst) {
      this.#buckets.delete(source);
      return undefined;
    }
    return bucket;
  }

  /** Drops full buckets (nothing to remember), then the oldest, until the map is within its bound again. */
  #evict(): void {
    for (const source of [...this.#buckets.keys()]) {
      if (this.#buckets.size <= this.#limits.sourcesMax) return;
      this.#refilled(source);
    }
    for (const source of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#limits.sourcesMax) return;
      this.#buckets.delete(source);
    }
  }
}

/** The address a request came from, as the socket saw it (no forwarding headers: registers talk directly). */
export function sourceOf(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export interface RegisterAuthOptions {
  limiter?: AuthFailureLimiter;
  /** Counts refusals as `tillgate_register_auth_refused_total{reason}`. */
  registry?: Registry;
}

export function registerAuth(
  registers: RegisterKeys | readonly RegisterEntry[],
  options: RegisterAuthOptions = {},
) {
  const keys = registers instanceof RegisterKeys ? registers : new RegisterKeys(registers);
  const refused =
    options.registry &&
    new Counter({
      name: 'tillgate_register_auth_refused_total',
      help: 'Register API calls refused before any work: a missing or wrong key, or a source over its limit.',
      labelNames: ['reason'] as const,
      registers: [options.registry],
    });
  const { limiter } = options;
  return (req: Request, res: Response, next: NextFunction): void => {
    const source = sourceOf(req);
    const waitSec = limiter?.retryAfterSec(source) ?? 0;
    if (waitSec > 0) {
      refused?.inc({ reason: 'rate_limited' });
      res.set('retry-after', String(waitSec));
      throw new GatewayError('rate_limited', 'too many failed register authentications from this source', {
        details: { retryAfterSec: waitSec },
      });
    }
    const key = bearerOf(req);
    const register = key === undefined ? undefined : keys.lookup(key);
    if (register === undefined) {
      limiter?.failed(source);
      refused?.inc({ reason: key === undefined ? 'missing_key' : 'wrong_key' });
      res.set('www-authenticate', 'Bearer');
      throw new GatewayError('unauthorized', 'a valid register key is required');
    }
    res.locals.register = register;
    next();
  };
}

export function registerOf(res: Response): Register {
  const register = res.locals.register as Register | undefined;
  if (register === undefined) throw new Error('registerOf() outside an authenticated route');
  return register;
}
