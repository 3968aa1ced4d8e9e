// Offline checks 1–7 of a pay code (CONTRACT §1.1), in contract order; the first failure is the reason.
// Checks 8–9 (replay counter, risk feed) need the database and live in gateway/payments.
import type { KeyObject } from 'node:crypto';
import type { CodeCheckReason } from '../decline-reasons.js';
import { publicKeyFromRaw, verifyEd25519, verifyEd25519Async } from './ed25519.js';
import { isNumericCode } from './numeric.js';
import { certificateSigningInput, codeSigningInput, PC1_PREFIX, type Pc1Code, parsePc1 } from './pc1.js';

export interface IssuerKey {
  kid: number;
  publicKey: string;
  revoked?: boolean;
}

/** Issuer keys the gateway trusts, with their KeyObjects built once. */
export class IssuerKeyRing {
  readonly #keys = new Map<number, { key: KeyObject | null; revoked: boolean }>();

  constructor(keys: Iterable<IssuerKey> = []) {
    for (const k of keys) this.set(k);
  }

  set(k: IssuerKey): void {
    let key: KeyObject | null = null;
    try {
      key = publicKeyFromRaw(Buffer.from(k.publicKey, 'hex'));
    } catch {
      key = null; // An unusable key can verify nothing; codes under it fail their certificate check.
    }
    this.#keys.set(k.kid, { key, revoked: k.revoked ?? false });
  }

  revoke(kid: number): void {
    const entry = this.#keys.get(kid);
    if (entry) entry.revoked = true;
  }

  get(kid: number): { key: KeyObject | null; revoked: boolean } | undefined {
    return this.#keys.get(kid);
  }

  get size(): number {
    return this.#keys.size;
  }
}

export interface CodeCheckOptions {
  keys: IssuerKeyRing;
  /** Unix seconds. */
  now: number;
  maxCodeAgeSec: number;
  maxClockSkewSec: number;
}

export type CodeCheck =
  | { outcome: 'valid'; code: Pc1Code }
  | { outcome: 'online_only'; numeric: string }
  | { outcome: CodeCheckReason; code?: Pc1Code };

export function checkPayCode(text: string, options: CodeCheckOptions): CodeCheck {
  const code = parseForCheck(text);
  if ('outcome' in code) return code;
  return { outcome: checkPc1(code, options), code } as CodeCheck;
}

/**
 * `checkPayCode` with the Ed25519 verifications on libuv's thread pool instead of the event loop (about 0.2 ms of
 * CPU each here): the payment service's path, where a register waits on the answer and other lanes on the loop.
 * The same checks in the same order, so the same outcome for every code (vectors.test.ts runs both).
 */
export async function checkPayCodeAsync(text: string, options: CodeCheckOptions): Promise<CodeCheck> {
  const code = parseForCheck(text);
  if ('outcome' in code) return code;
  const checks = pc1Checks(code, options);
  let step = checks.next();
  while (!step.done) {
    const { key, message, signature } = step.value;
    step = checks.next(await verifyEd25519Async(key, message, signature));
  }
  return { outcome: step.value, code } as CodeCheck;
}

/** Check 1: a PC1 code that parses, to be checked further; or the outcome already (numeric, malformed). */
function parseForCheck(text: string): Pc1Code | CodeCheck {
  if (!text.startsWith(PC1_PREFIX)) {
    return isNumericCode(text) ? { outcome: 'online_only', numeric: text } : { outcome: 'malformed_code' };
  }
  return parsePc1(text) ?? { outcome: 'malformed_code' };
}

/** Checks 2–7 on a structurally valid code. */
export function checkPc1(code: Pc1Code, options: CodeCheckOptions): 'valid' | CodeCheckReason {
  const checks = pc1Checks(code, options);
  let step = checks.next();
  while (!step.done) {
    const { key, message, signature } = step.value;
    step = checks.next(verifyEd25519(key, message, signature));
  }
  return step.value;
}

/** One Ed25519 verification a check needs; the caller answers whether the signature holds. */
interface Verification {
  key: KeyObject;
  message: Uint8Array;
  signature: Uint8Array;
}

/**
 * Checks 2–7 in contract order, written once for both callers: it yields each signature to verify and is told the
 * answer, so the sync and the thread-pool paths cannot drift apart.
 */
function* pc1Checks(
  code: Pc1Code,
  options: CodeCheckOptions,
): Generator<Verification, 'valid' | CodeCheckReason, boolean> {
  const cert = code.certificate;
  const issuer = options.keys.get(cert.kid);
  if (issuer === undefined) return 'unknown_issuer_key';
  if (issuer.revoked) return 'issuer_key_revoked';
  if (issuer.key === null) return 'bad_certificate_signature';
  if (!isCertificateRemembered(issuer.key, cert.bytes)) {
    const verification = {
      key: issuer.key,
      message: certificateSigningInput(cert.bytes),
      signature: cert.issuerSig,
    };
    if (!(yield verification)) return 'bad_certificate_signature';
    rememberCertificate(issuer.key, cert.bytes);
  }
  if (cert.expiresAt <= options.now) return 'certificate_expired';
  let deviceKey: KeyObject;
  try {
    deviceKey = publicKeyFromRaw(cert.devicePublicKey);
  } catch {
    return 'bad_code_signature';
  }
  if (!(yield { key: deviceKey, message: codeSigningInput(code.bytes), signature: code.deviceSig })) {
    return 'bad_code_signature';
  }
  if (code.issuedAt < options.now - options.maxCodeAgeSec) return 'code_expired';
  if (code.issuedAt > options.now + options.maxClockSkewSec) return 'code_from_future';
  return 'valid';
}

/**
 * Certificates whose issuer signature checked, each with the issuer KeyObject that checked it. A phone shows the
 * same certificate in every code, so its issuer signature is verified once, not once per payment. Only genuine
 * certificates get in (a forged one never verifies), the same bytes under the same key verify the same way every
 * time, and a revoked or replaced issuer key is caught before this (the ring's entry), so the cache changes no
 * outcome. Bounded: the oldest entry goes first.
 */
const signedCertificates = new Map<string, KeyObject>();
const SIGNED_CERTIFICATES_MAX = 4_096;

function isCertificateRemembered(issuerKey: KeyObject, certificate: Buffer): boolean {
  return signedCertificates.get(certificate.toString('base64')) === issuerKey;
}

/** Called only after the issuer signature over these bytes verified under this key. */
function rememberCertificate(issuerKey: KeyObject, certificate: Buffer): void {
  if (signedCertificates.size >= SIGNED_CERTIFICATES_MAX) {
    signedCertificates.delete(signedCertificates.keys().next().value!);
  }
  signedCertificates.set(certificate.toString('base64'), issuerKey);
}
