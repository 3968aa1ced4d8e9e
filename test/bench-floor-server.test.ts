// The offline bench's floor server (bench/floor-server.ts) is a baseline only while it does the checks it claims:
// a valid code is answered 201 after its row is durable; a code that fails checks 1–7 is refused 422 with the
// outcome, and writes nothing. Runs the built server as the bench does (`npm test` builds first).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../gateway/db/open.js';
import { generateEd25519 } from '../gateway/paycode/ed25519.js';
import { issueCertificate, makePayCode } from '../gateway/paycode/phone.js';

const KID = 3;
const dir = mkdtempSync(join(tmpdir(), 'tillgate-floor-'));
const issuer = generateEd25519();
const phone = generateEd25519();
const now = Math.floor(Date.now() / 1000);
const FIELDS = {
  kid: KID,
  accountId: '0123456789abcdef',
  deviceId: 'fedcba9876543210',
  devicePublicKey: phone.publicKey,
  offlineLimit: 10_000,
  enrolledAt: now - 86_400,
  expiresAt: now + 365 * 86_400,
};
const certificate = issueCertificate(issuer.seed, FIELDS);
let server: ChildProcess;
let url: string;

beforeAll(async () => {
  // The gateway's file as the bench leaves it after a risk-feed refresh: the issuer key in issuer_keys.
  const keys = openDatabase(join(dir, 'gateway.sqlite'));
  keys
    .prepare('INSERT INTO issuer_keys (kid, public_key, revoked, updated_at) VALUES (?, ?, 0, ?)')
    .run(KID, issuer.publicKey.toString('hex'), Date.now());
  keys.close();
  server = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '..', 'dist', 'bench', 'floor-server.js'),
      '--keys',
      join(dir, 'gateway.sqlite'),
      '--data',
      join(dir, 'floor.sqlite'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
  url = (JSON.parse(line) as { url: string }).url;
});

afterAll(async () => {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

async function pay(payCode: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 100, currency: 'JPY', payCode }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function rowsWritten(): number {
  const db = new Database(join(dir, 'floor.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM approvals').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('the offline bench floor server', () => {
  it('approves a valid code after writing its row', async () => {
    const code = makePayCode(certificate, phone.seed, 1, now);
    expect(await pay(code)).toEqual({ status: 201, body: { approved: true, deviceId: 'fedcba9876543210' } });
    expect(rowsWritten()).toBe(1);
  });

  it('refuses what fails checks 1–7, with the outcome, and writes nothing', async () => {
    const stranger = generateEd25519();
    const valid = makePayCode(certificate, phone.seed, 2, now);
    const cases: [unknown, string][] = [
      [makePayCode(certificate, stranger.seed, 3, now), 'bad_code_signature'],
      [makePayCode(issueCertificate(stranger.seed, FIELDS), phone.seed, 4, now), 'bad_certificate_signature'],
      [makePayCode(certificate, phone.seed, 5, now - 3_600), 'code_expired'],
      [makePayCode(certificate, phone.seed, 6, now + 3_600), 'code_from_future'],
      [`${valid.slice(0, -4)}`, 'malformed_code'],
      [42, 'no_code'],
    ];
    for (const [code, outcome] of cases) {
      expect(await pay(code), outcome).toEqual({ status: 422, body: { approved: false, outcome } });
    }
    expect(rowsWritten()).toBe(1);
  });
});
