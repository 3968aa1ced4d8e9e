// The sandbox side of a pay code: the wallet signs device certificates, the phone signs each code.
// Used by the sandbox wallet, `tillgate paycode` and the tests; a real phone keeps its seed in secure hardware.
import { privateKeyFromSeed, signEd25519 } from './ed25519.js';
import {
  CERTIFICATE_BYTES,
  certificateSigningInput,
  codeSigningInput,
  type DeviceCertificateFields,
  encodeCertificateBody,
  encodeCodeBody,
  formatPc1,
} from './pc1.js';

/** Wallet side: bytes 0–125, the certificate the issuer key signs at enrollment. */
export function issueCertificate(issuerSeed: Uint8Array, fields: DeviceCertificateFields): Buffer {
  const body = encodeCertificateBody(fields);
  const sig = signEd25519(privateKeyFromSeed(issuerSeed), certificateSigningInput(body));
  return Buffer.concat([body, sig]);
}

/** Phone side: a displayable "PC1:…" code for one counter value. */
export function makePayCode(
  certificate: Uint8Array,
  deviceSeed: Uint8Array,
  counter: number,
  issuedAt: number,
): string {
  if (certificate.length !== CERTIFICATE_BYTES) throw new RangeError('a certificate is 126 bytes');
  const body = encodeCodeBody(certificate, counter, issuedAt);
  const sig = signEd25519(privateKeyFromSeed(deviceSeed), codeSigningInput(body));
  return formatPc1(Buffer.concat([body, sig]));
}
