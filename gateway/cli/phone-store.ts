// The sandbox phones of `tillgate paycode` and the demo: enrollment at the sandbox wallet (the key pair is made
// here, only the public key leaves), and what a phone keeps between two codes — device seed, enrollment, last
// counter — in DIR/phones/<accountId>.json (mode 0600: the seed signs pay codes).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { type Enrollment, type EnrollOptions, SandboxPhone } from '../../wallet/sandbox-phone.js';
import { generateEd25519 } from '../paycode/ed25519.js';
import { failure } from './command.js';
import type { SandboxWalletAccess } from './demo-file.js';
import { readJsonFile, withFileLock, writePrivateFile } from './private-files.js';

const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);
const Unix = z.number().int().nonnegative();

export const EnrollmentSchema = z.object({
  deviceId: Hex16,
  accountId: Hex16,
  certificate: z.string().regex(/^[0-9a-f]{252}$/, '126 bytes as hex'),
  enrolledAt: Unix,
  expiresAt: Unix,
  kid: z.number().int().min(0).max(255),
  offlineLimit: Unix,
}) satisfies z.ZodType<Enrollment>;

const PhoneStateSchema = z.object({
  walletUrl: z.string(),
  /** Ed25519 seed, 32 bytes as hex. */
  deviceSeed: z.string().regex(/^[0-9a-f]{64}$/),
  enrollment: EnrollmentSchema,
  /** The counter of the last code shown; the next code carries this + 1. */
  lastCounter: z.number().int().nonnegative().max(0xffff_ffff),
});

export type PhoneState = z.infer<typeof PhoneStateSchema>;

export interface ShownCode {
  code: string;
  deviceId: string;
  counter: number;
}

/** Enrollment is one local HTTP call; a wallet that does not answer in this time is not running. */
const ENROLL_TIMEOUT_MS = 10_000;

export class PhoneStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'phones');
  }

  fileOf(accountId: string): string {
    return join(this.#dir, `${accountId}.json`);
  }

  /** The phone of the account, or null before its first code. */
  load(accountId: string): PhoneState | null {
    const file = this.fileOf(accountId);
    if (!existsSync(file)) return null;
    const parsed = PhoneStateSchema.safeParse(readJsonFile(file));
    if (!parsed.success) throw failure(`${file} is not a phone state file; delete it to enroll a new device`);
    return parsed.data;
  }

  save(state: PhoneState): void {
    writePrivateFile(this.fileOf(state.enrollment.accountId), `${JSON.stringify(state, null, 2)}\n`);
  }

  /** The next code (counter + 1), the counter saved before the code is returned: no counter is shown twice. */
  nextCode(state: PhoneState, issuedAt = Math.floor(Date.now() / 1000)): ShownCode {
    const phone = new SandboxPhone(state.enrollment, Buffer.from(state.deviceSeed, 'hex'), state.lastCounter);
    const code = phone.nextCode(issuedAt);
    this.save({ ...state, lastCounter: phone.lastCounter });
    return { code, deviceId: phone.deviceId, counter: phone.lastCounter };
  }

  /** Runs `fn` with the account's phone to itself: two calls at once never show the same counter. */
  exclusive<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.fileOf(accountId), fn);
  }
}

/** CONTRACT §3.3 POST /v1/devices with the sandbox admin key; the state to save, counter 0. */
export async function enrollPhone(
  wallet: SandboxWalletAccess,
  accountId: string,
  options: EnrollOptions = {},
): Promise<PhoneState> {
  const pair = generateEd25519();
  let response: Response;
  try {
    response = await fetch(`${wallet.url}/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wallet.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ accountId, publicKey: pair.publicKey.toString('hex'), ...options }),
      signal: AbortSignal.timeout(ENROLL_TIMEOUT_MS),
    });
  } catch (error) {
    throw failure(`cannot reach the sandbox wallet at ${wallet.url}: ${causeOf(error)}`, error);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw failure(`the wallet refused the enrollment: ${response.status} ${errorText(body)}`);
  const enrollment = EnrollmentSchema.safeParse(body);
  if (!enrollment.success) throw failure('the wallet answered the enrollment with an unexpected body');
  return {
    walletUrl: wallet.url,
    deviceSeed: pair.seed.toString('hex'),
    enrollment: enrollment.data,
    lastCounter: 0,
  };
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function errorText(body: unknown): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error === undefined) return '';
  return [error.code, error.message].filter((part) => typeof part === 'string').join(': ');
}
