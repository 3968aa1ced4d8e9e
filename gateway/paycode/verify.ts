// Offline checks 1–7 of a pay code (CONTRACT §1.1), in contract order; the first failure is the reason.
// Checks 8–9 (replay counter, risk feed) need the database and live in gateway/payments.
import type { KeyObject } from 'node:crypto';
import type { CodeCheckReason } from '../decline-reasons.js';
import { publicKeyFromRaw, verifyEd25519 } from './ed25519.js';
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
  if (!text.startsWith(PC1_PREFIX)) {
    return isNumericCode(text) ? { outcome: 'online_only', numeric: text } : { outcome: 'malformed_code' };
  }
  const code = parsePc1(text);
  if (code === null) return { outcome: 'malformed_code' };
  return { outcome: checkPc1(code, options), code } as CodeCheck;
}

/** Checks 2–7 on a structurally valid code. */
export function checkPc1(code: Pc1Code, options: CodeCheckOptions): 'valid' | CodeCheckReason {
  const cert = code.certificate;
  const issuer = options.keys.get(cert.kid);
  if (issuer === undefined) return 'unknown_issuer_key';
  if (issuer.revoked) return 'issuer_key_revoked';
  if (issuer.key === null || !certificateSigned(issuer.key, cert.bytes, cert.issuerSig)) {
    return 'bad_certificate_signature';
  }
  if (cert.expiresAt <= options.now) return 'certificate_expired';
  let deviceKey: KeyObject;
  try {
    deviceKey = publicKeyFromRaw(cert.devicePublicKey);
  } catch {
    return 'bad_code_signature';
  }
  if (!verifyEd25519(deviceKey, codeSigningInput(code.bytes), code.deviceSig)) return 'bad_code_signature';
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

function certificateSigned(issuerKey: KeyObject, certificate: Buffer, signature: Uint8Array): boolean {
  const id = certificate.toString('base64');
  if (signedCertificates.get(id) === issuerKey) return true;
  if (!verifyEd25519(issuerKey, certificateSigningInput(certificate), signature)) return false;
  if (signedCertificates.size >= SIGNED_CERTIFICATES_MAX) {
    signedCertificates.delete(signedCertificates.keys().next().value!);
  }
  signedCertificates.set(id, issuerKey);
  return true;
}
