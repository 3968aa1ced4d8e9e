// Who is calling: the sandbox admin key (kept in the database so restarts keep it) and per-store keys
// (only their SHA-256 is stored). Keys are compared by hash with timingSafeEqual; 401 before any other work.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { newKey } from '../gateway/http/auth.js';
import type { WalletContext } from './context.js';
import { type Db, getMeta, one, run, setMeta } from './db.js';
import { WalletError } from './errors.js';

const ADMIN_KEY_META = 'sandbox_admin_key';
const KEY = /^[A-Za-z0-9._~+/=-]{1,512}$/;
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The admin key given, else the one stored, else a new one; whichever it is, stored for the next start. */
export function ensureAdminKey(db: Db, given: string | undefined): string {
  if (given !== undefined && !KEY.test(given))
    throw new RangeError('adminKey: expected 1–512 of A–Z a–z 0–9 . _ ~ + / = -');
  const key = given ?? getMeta(db, ADMIN_KEY_META) ?? newKey('adm_');
  setMeta(db, ADMIN_KEY_META, key);
  return key;
}

/** Meta rows `store_previous_key:<sha256 hex>` → {storeId, validUntil}: a rotated-out key still in its grace period. */
const PREVIOUS_KEY_META = 'store_previous_key:';
/** At most a week: a grace period is for a rollout, not a second permanent key. */
export const PREVIOUS_KEY_GRACE_SEC_MAX = 7 * 86_400;

/**
 * Creates the store, or gives it a new key; the key is returned once and never stored. On a rotation with
 * `previousKeyGraceSec` > 0 the key it replaces keeps working that long (now in unix seconds), so gateways can
 * switch without downtime; a rotation ends the grace of any key rotated out before.
 */
export function createStoreKey(
  db: Db,
  storeId: string,
  now: number,
  options: { previousKeyGraceSec?: number } = {},
): { storeId: string; storeKey: string } {
  const grace = options.previousKeyGraceSec ?? 0;
  if (!Number.isInteger(grace) || grace < 0 || grace > PREVIOUS_KEY_GRACE_SEC_MAX)
    throw new RangeError(`previousKeyGraceSec: 0 to ${PREVIOUS_KEY_GRACE_SEC_MAX}`);
  const storeKey = newKey('sk_');
  const keySha256 = sha256(storeKey).toString('hex');
  const previous = one<{ key_sha256: string }>(
    db,
    'SELECT key_sha256 FROM stores WHERE store_id = ?',
    storeId,
  );
  run(
    db,
    `DELETE FROM meta WHERE key LIKE '${PREVIOUS_KEY_META}%' AND json_extract(value, '$.storeId') = ?`,
    storeId,
  );
  if (previous !== undefined && grace > 0) {
    setMeta(
      db,
      PREVIOUS_KEY_META + previous.key_sha256,
      JSON.stringify({ storeId, validUntil: now + grace }),
    );
  }
  run(
    db,
    `INSERT INTO stores (store_id, key_sha256, created_at, rotated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (store_id) DO UPDATE SET key_sha256 = excluded.key_sha256, rotated_at = excluded.rotated_at`,
    storeId,
    keySha256,
    now,
    now,
  );
  return { storeId, storeKey };
}

function bearerKey(req: Request): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  return BEARER.exec(header)?.[1] ?? null;
}

function storeForKey(context: WalletContext, key: string): string | null {
  const keyHash = sha256(key);
  const row = one<{ store_id: string; key_sha256: string }>(
    context.db,
    'SELECT store_id, key_sha256 FROM stores WHERE key_sha256 = ?',
    keyHash.toString('hex'),
  );
  if (row) return sameHash(Buffer.from(row.key_sha256, 'hex'), keyHash) ? row.store_id : null;
  return storeForPreviousKey(context, keyHash);
}

/** A rotated-out key within its grace period. */
function storeForPreviousKey(context: WalletContext, keyHash: Buffer): string | null {
  const stored = getMeta(context.db, PREVIOUS_KEY_META + keyHash.toString('hex'));
  if (stored === undefined) return null;
  const { storeId, validUntil } = JSON.parse(stored) as { storeId: string; validUntil: number };
  return context.clock() < validUntil ? storeId : null;
}

function isAdminKey(context: WalletContext, key: string): boolean {
  return sameHash(sha256(key), context.adminKeySha256);
}

function unauthorized(): WalletError {
  return new WalletError('unauthorized', 'missing or unknown bearer key');
}

export function requireStore(context: WalletContext): RequestHandler {
  return (req, res, next) => {
    const key = bearerKey(req);
    const storeId = key === null ? null : storeForKey(context, key);
    if (storeId === null) throw unauthorized();
    res.locals.storeId = storeId;
    next();
  };
}

/** A store key on an admin endpoint is known but not allowed (403); anything else is 401. */
export function requireAdmin(context: WalletContext): RequestHandler {
  return (req, res, next) => {
    const key = bearerKey(req);
    if (key !== null && isAdminKey(context, key)) {
      res.locals.admin = true;
      return next();
    }
    if (key !== null && storeForKey(context, key) !== null) {
      throw new WalletError('forbidden', 'this endpoint needs the sandbox admin key');
    }
    throw unauthorized();
  };
}

export function requireStoreOrAdmin(context: WalletContext): RequestHandler {
  return (req, res, next) => {
    const key = bearerKey(req);
    if (key !== null && isAdminKey(context, key)) return next();
    const storeId = key === null ? null : storeForKey(context, key);
    if (storeId === null) throw unauthorized();
    res.locals.storeId = storeId;
    next();
  };
}

/** The store the caller authenticated as; set by requireStore. */
export function callerStore(res: Response): string {
  const storeId = res.locals.storeId;
  if (typeof storeId !== 'string') throw new Error('callerStore used on a route without requireStore');
  return storeId;
}

/** A storeId named in a body or path must be the caller's own store. */
export function assertCallerStore(res: Response, storeId: string): void {
  if (callerStore(res) !== storeId)
    throw new WalletError('forbidden', 'storeId does not match the store key');
}
