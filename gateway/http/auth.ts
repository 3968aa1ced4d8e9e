// Register authentication: `Authorization: Bearer <register key>`, looked up by its SHA-256 (the config holds
// only hashes). Runs before any body is read, so an unauthenticated caller costs no parsing.
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors.js';

export interface Register {
  id: string;
  laneId: string;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
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

export function registerAuth(registers: RegisterKeys | readonly RegisterEntry[]) {
  const keys = registers instanceof RegisterKeys ? registers : new RegisterKeys(registers);
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = bearerOf(req);
    const register = key === undefined ? undefined : keys.lookup(key);
    if (register === undefined) {
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
