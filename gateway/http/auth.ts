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

export function registerAuth(registers: readonly (Register & { keySha256: string })[]) {
  const byHash = new Map(registers.map((r) => [r.keySha256, { id: r.id, laneId: r.laneId }]));
  return (req: Request, res: Response, next: NextFunction): void => {
    const match = BEARER.exec(req.get('authorization') ?? '');
    const register = match ? byHash.get(sha256Hex(match[1]!)) : undefined;
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
