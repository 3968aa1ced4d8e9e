// Who may see the store dashboard: operators from the config (an id and the SHA-256 of their key). A browser
// signs in once with the key and gets a session cookie (HttpOnly, SameSite=Strict, never the key itself);
// scripts send `Authorization: Bearer <operator key>`. Sessions live in memory (a restart signs everyone out),
// bounded in number and age; failed sign-ins are bounded per minute, store-wide.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config.js';
import { bearerOf, sha256Hex } from '../http/auth.js';

export const SESSION_COOKIE = 'tillgate_session';
const FAILURE_WINDOW_MS = 60_000;

export interface Operator {
  id: string;
}

export type SignIn =
  | { outcome: 'signed_in'; operator: Operator; cookie: string }
  | { outcome: 'refused' }
  | { outcome: 'rate_limited' };

interface Session {
  operatorId: string;
  expiresAt: number;
}

export class OperatorAuth {
  readonly #settings: Config['dashboard'];
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session>();
  readonly #failures: number[] = [];
  readonly #signIns: Counter<'outcome'>;
  #byHash = new Map<string, Operator>();

  constructor(options: {
    operators: Config['operators'];
    settings: Config['dashboard'];
    registry: Registry;
    now: () => number;
  }) {
    this.#settings = options.settings;
    this.#now = options.now;
    this.#signIns = new Counter({
      name: 'tillgate_operator_sign_ins_total',
      help: 'Dashboard sign-ins by outcome (signed_in, refused, rate_limited).',
      labelNames: ['outcome'] as const,
      registers: [options.registry],
    });
    this.replaceOperators(options.operators);
  }

  /** A config reload: sessions of operators no longer listed end at once. */
  replaceOperators(operators: Config['operators']): void {
    this.#byHash = new Map(operators.map((o) => [o.keySha256, { id: o.id }]));
    const ids = new Set(operators.map((o) => o.id));
    for (const [token, session] of this.#sessions)
      if (!ids.has(session.operatorId)) this.#sessions.delete(token);
  }

  get enabled(): boolean {
    return this.#byHash.size > 0;
  }

  signIn(key: string, secure: boolean): SignIn {
    const now = this.#now();
    while (this.#failures.length > 0 && this.#failures[0]! <= now - FAILURE_WINDOW_MS) this.#failures.shift();
    if (this.#failures.length >= this.#settings.loginFailuresPerMinuteMax)
      return this.#count({ outcome: 'rate_limited' });
    const operator = this.#byHash.get(sha256Hex(key));
    if (operator === undefined) {
      this.#failures.push(now);
      return this.#count({ outcome: 'refused' });
    }
    const token = randomBytes(32).toString('base64url');
    if (this.#sessions.size >= this.#settings.sessionsMax) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(sha256Hex(token), {
      operatorId: operator.id,
      expiresAt: now + this.#settings.sessionTtlSec * 1000,
    });
    return this.#count({
      outcome: 'signed_in',
      operator,
      cookie: sessionCookie(token, this.#settings.sessionTtlSec, secure),
    });
  }

  signOut(req: Request): void {
    const token = cookieOf(req, SESSION_COOKIE);
    if (token !== undefined) this.#sessions.delete(sha256Hex(token));
  }

  /** The operator behind a request: a live session cookie, or a Bearer operator key. */
  identify(req: Request): Operator | undefined {
    const key = bearerOf(req);
    if (key !== undefined) return this.#byHash.get(sha256Hex(key));
    const token = cookieOf(req, SESSION_COOKIE);
    if (token === undefined) return undefined;
    const hash = sha256Hex(token);
    const session = this.#sessions.get(hash);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(hash);
      return undefined;
    }
    return { id: session.operatorId };
  }

  #count<T extends SignIn>(result: T): T {
    this.#signIns.inc({ outcome: result.outcome });
    return result;
  }
}

function sessionCookie(token: string, ttlSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${ttlSec}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearSessionCookie(res: Response): void {
  res.append('set-cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`);
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * A form post that comes from this gateway's own pages: browsers say where a request comes from
 * (Sec-Fetch-Site, Origin); one from another site is refused even before the SameSite cookie rule applies.
 */
export function fromSameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = req.get('origin');
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}
