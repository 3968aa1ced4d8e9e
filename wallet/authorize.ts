// Online authorization (CONTRACT §3.1). The wallet trusts nothing the gateway decided: it runs PC1 checks 1–7
// with its own keys and clock, then — in one IMMEDIATE transaction, so concurrent repeats of an id see the first
// answer and debit once — device, counter, account and balance, and records one answer per id.
import type { DeclineReason } from '../gateway/decline-reasons.js';
import type { Pc1Code } from '../gateway/paycode/pc1.js';
import { type CodeCheck, checkPayCodeAsync } from '../gateway/paycode/verify.js';
import { chargeAccount } from './accounts.js';
import {
  type AuthorizationResult,
  findAuthorization,
  insertAuthorization,
  ownAuthorization,
  resultOf,
} from './authorization-records.js';
import type { WalletContext } from './context.js';
import type { Db } from './db.js';
import { findDevice, raiseCounter } from './devices.js';
import { WalletError } from './errors.js';
import { issuerKeyRing } from './issuer-keys.js';
import { codeSha256, redeemNumericCode } from './numeric-codes.js';

export interface AuthorizationRequest {
  id: string;
  storeId: string;
  laneId: string;
  payCode: string;
  amount: number;
  currency: string;
  basket?: { category: string; amount: number }[] | undefined;
  /** Unix seconds, when the gateway made the request. */
  createdAt: number;
}

interface Decision {
  reason: DeclineReason | null;
  /** Set only once the wallet trusts them: the device is its own and the certificate is the one it issued. */
  accountId?: string;
  deviceId?: string;
  counter?: number;
}

export async function authorize(
  context: WalletContext,
  request: AuthorizationRequest,
): Promise<AuthorizationResult> {
  const { db } = context;
  // Checks 1–7 depend on the code, the keys and the clock only: run before the transaction, their signatures on
  // libuv's thread pool, so the event loop serves other stores meanwhile.
  const check = await checkPayCodeAsync(request.payCode, {
    keys: issuerKeyRing(db),
    now: context.clock(),
    ...context.codeRules,
  });
  return db
    .transaction(() => {
      const existing = ownAuthorization(db, request.id, request.storeId);
      if (existing !== undefined) return resultOf(existing);
      const now = context.clock();
      const decision = decide(db, check, request, now);
      insertAuthorization(
        db,
        {
          ...request,
          origin: 'online',
          status: decision.reason === null ? 'approved' : 'declined',
          reason: decision.reason ?? undefined,
          accountId: decision.accountId,
          deviceId: decision.deviceId,
          counter: decision.counter,
          codeSha256: codeSha256(request.payCode),
          requestedAt: request.createdAt,
        },
        now,
      );
      return resultOf(findAuthorization(db, request.id)!);
    })
    .immediate();
}

export function getAuthorization(db: Db, id: string, storeId: string): AuthorizationResult {
  const row = findAuthorization(db, id);
  if (row === undefined || row.store_id !== storeId)
    throw new WalletError('not_found', `no authorization ${id}`);
  return resultOf(row);
}

function decide(db: Db, check: CodeCheck, request: AuthorizationRequest, now: number): Decision {
  if (check.outcome === 'online_only') return decideNumeric(db, check.numeric, request, now);
  if (check.outcome !== 'valid') return { reason: check.outcome };
  return decidePc1(db, check.code, request, now);
}

function decidePc1(db: Db, code: Pc1Code, request: AuthorizationRequest, now: number): Decision {
  const cert = code.certificate;
  const device = findDevice(db, cert.deviceId);
  // A validly signed certificate this wallet has no record of (or a different one) is not one it issued.
  if (device === undefined || device.certificate !== cert.bytes.toString('hex'))
    return { reason: 'wallet_declined' };
  const known = { accountId: device.account_id, deviceId: device.id, counter: code.counter };
  if (device.revoked === 1) return { ...known, reason: 'device_revoked' };
  if (code.counter <= device.max_counter) return { ...known, reason: 'code_replayed' };
  // The code is spent once shown to the wallet, whatever the account checks say next.
  raiseCounter(db, device.id, code.counter);
  return { ...known, reason: charge(db, device.account_id, request, now) };
}

function decideNumeric(db: Db, numeric: string, request: AuthorizationRequest, now: number): Decision {
  const redeemed = redeemNumericCode(db, numeric, now);
  if ('reason' in redeemed) return { reason: redeemed.reason };
  return { accountId: redeemed.accountId, reason: charge(db, redeemed.accountId, request, now) };
}

function charge(db: Db, accountId: string, request: AuthorizationRequest, now: number): DeclineReason | null {
  return chargeAccount(
    db,
    { accountId, amount: request.amount, currency: request.currency, cause: `authorization:${request.id}` },
    now,
  );
}
