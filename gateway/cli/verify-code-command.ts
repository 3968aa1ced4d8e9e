// `tillgate verify-code`: decodes a pay code and runs the offline checks 1–7 of CONTRACT §1.1 on it,
// printing its fields and the outcome as JSON. A declining outcome is a result (exit 0), not a failure.
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import * as z from 'zod';
import { ConfigSchema } from '../config.js';
import type { CodeCheckReason } from '../decline-reasons.js';
import { type CodeCheck, checkPayCode, type IssuerKey, IssuerKeyRing } from '../paycode/verify.js';
import { HttpWalletClient } from '../wallet-client/http-wallet-client.js';
import { integerOption, parseCommandArgs } from './args.js';
import { type CliIo, type Command, EXIT_OK, failure, printJson, usageError, workingDir } from './command.js';
import { DEFAULT_DATA_DIR, dataDirOf, sandboxWalletOf } from './demo-file.js';
import { readJsonFile } from './private-files.js';

const OPTIONS = {
  keys: { type: 'string' },
  now: { type: 'string' },
  wallet: { type: 'string' },
  'admin-key': { type: 'string' },
  data: { type: 'string' },
} as const;

const KeysFileSchema = z.array(
  z.object({
    kid: z.number().int().min(0).max(255),
    publicKey: z.string().regex(/^[0-9a-f]{64}$/i, '32 bytes as hex'),
    revoked: z.boolean().optional(),
  }),
);

/** Which check of §1.1 gives each reason. */
const CHECK_OF: Record<CodeCheckReason, number> = {
  malformed_code: 1,
  unknown_issuer_key: 2,
  issuer_key_revoked: 2,
  bad_certificate_signature: 3,
  certificate_expired: 4,
  bad_code_signature: 5,
  code_expired: 6,
  code_from_future: 7,
  code_replayed: 8,
  account_frozen: 9,
  device_revoked: 9,
};

/** maxCodeAgeSec and maxClockSkewSec as a gateway with the default config has them. */
const CODE_RULES = ConfigSchema.shape.codes.parse({});
const KEYS_TIMEOUT_MS = 10_000;
const UNIX_MAX = 0xffff_ffff;

export const verifyCodeCommand: Command = {
  name: 'verify-code',
  summary: 'decode a pay code, print its fields and the offline checks 1–7 as JSON',
  usage: `Usage: tillgate verify-code [--keys FILE | --wallet URL [--admin-key KEY]] [--now UNIX] CODE

Decodes CODE (a PC1 code or a numeric online-only code; - reads it from stdin) and prints one JSON line:
{"outcome": "valid" | "online_only" | REASON, "check": N, ...fields}, where REASON is the first failing
check of CONTRACT §1.1 (1–7) and N its number. Exit status 0 whenever a result is printed.

  --keys FILE      trusted issuer keys, a JSON list [{kid, publicKey, revoked?}]
  --wallet URL     fetch the issuer keys from this wallet (GET /v1/issuer-keys)
  --admin-key KEY  its sandbox admin key or a store key (default: from DIR/demo.json)
  --data DIR       whose demo.json names the wallet when neither --keys nor --wallet is given
                   (default ./${DEFAULT_DATA_DIR}); with no keys at all, checks 2–7 cannot pass
  --now UNIX       check as of this unix time (default: now)`,
  run: runVerifyCode,
};

async function runVerifyCode(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, { min: 1, max: 1, name: 'CODE' });
  if (values.keys !== undefined && values.wallet !== undefined) {
    throw usageError('give --keys or --wallet, not both');
  }
  const givenNow = integerOption(values.now, '--now', { min: 0, max: UNIX_MAX });
  const text = positionals[0] === '-' ? await firstLine(io.stdin) : positionals[0]!;
  const keys = await issuerKeys(values, io);
  // Taken once the code is in hand: piped from `tillgate paycode`, it may arrive a second later.
  const now = givenNow ?? Math.floor(Date.now() / 1000);
  const result = checkPayCode(text, { keys: new IssuerKeyRing(keys), now, ...CODE_RULES });
  printJson(io, describe(result, now));
  return EXIT_OK;
}

type KeyOptions = { keys?: string; wallet?: string; 'admin-key'?: string; data?: string };

async function issuerKeys(values: KeyOptions, io: CliIo): Promise<IssuerKey[]> {
  if (values.keys !== undefined) return readKeysFile(resolve(workingDir(io), values.keys));
  const dataDir = dataDirOf(io, values.data);
  const wallet = sandboxWalletOf({ wallet: values.wallet, adminKey: values['admin-key'] }, dataDir);
  if (wallet === null) {
    io.stderr.write(`no issuer keys: no --keys, no --wallet and no demo.json in ${dataDir}\n`);
    return [];
  }
  try {
    const client = new HttpWalletClient({ url: wallet.url, storeKey: wallet.adminKey });
    return await client.issuerKeys(AbortSignal.timeout(KEYS_TIMEOUT_MS));
  } catch (error) {
    throw failure(`cannot get the issuer keys from ${wallet.url}: ${(error as Error).message}`, error);
  }
}

function readKeysFile(file: string): IssuerKey[] {
  const parsed = KeysFileSchema.safeParse(readJsonFile(file, `the keys file ${file}`));
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || '(root)';
    throw failure(`${file} is not a list of [{kid, publicKey}] (at ${where})`);
  }
  return parsed.data.map((key) => ({ ...key, publicKey: key.publicKey.toLowerCase() }));
}

function describe(result: CodeCheck, now: number): Record<string, unknown> {
  const head: Record<string, unknown> = { outcome: result.outcome };
  if (result.outcome !== 'valid' && result.outcome !== 'online_only') head.check = CHECK_OF[result.outcome];
  if ('numeric' in result) return { ...head, numeric: result.numeric, now };
  if (result.code === undefined) return { ...head, now };
  const { certificate: cert, counter, issuedAt } = result.code;
  return {
    ...head,
    version: cert.version,
    kid: cert.kid,
    accountId: cert.accountId,
    deviceId: cert.deviceId,
    devicePublicKey: cert.devicePublicKey.toString('hex'),
    offlineLimit: cert.offlineLimit,
    enrolledAt: cert.enrolledAt,
    expiresAt: cert.expiresAt,
    counter,
    issuedAt,
    now,
  };
}

/** The line as it is: a Base45 code may begin or end with a space. */
async function firstLine(input: Readable): Promise<string> {
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) return line;
  throw failure('no code on stdin');
}
