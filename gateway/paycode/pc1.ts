// The PC1 pay-code layout (CONTRACT §1.1): a wallet-signed device certificate plus a phone-signed code.
// Pure byte work: parsing never trusts a field before its signature is checked by verify.ts.
import { decodeBase45, encodeBase45 } from './base45.js';

export const PC1_PREFIX = 'PC1:';
export const PC1_VERSION = 1;
export const CERTIFICATE_BYTES = 126;
export const CODE_BYTES = 198;
export const PC1_TEXT_LENGTH = PC1_PREFIX.length + Math.ceil(CODE_BYTES / 2) * 3;

const CERT_CONTEXT = Buffer.from('PC1-CERT', 'ascii');
const CODE_CONTEXT = Buffer.from('PC1-CODE', 'ascii');

export interface DeviceCertificateFields {
  kid: number;
  accountId: string;
  deviceId: string;
  devicePublicKey: Buffer;
  offlineLimit: number;
  enrolledAt: number;
  expiresAt: number;
}

export interface DeviceCertificate extends DeviceCertificateFields {
  version: number;
  issuerSig: Buffer;
  /** Bytes 0–125 as carried in the code. */
  bytes: Buffer;
}

export interface Pc1Code {
  certificate: DeviceCertificate;
  counter: number;
  issuedAt: number;
  deviceSig: Buffer;
  /** Bytes 0–197. */
  bytes: Buffer;
}

const HEX16 = /^[0-9a-f]{16}$/;

export function isId(value: string): boolean {
  return HEX16.test(value);
}

/** The message the issuer key signs: "PC1-CERT" ‖ bytes 0–61. */
export function certificateSigningInput(certificateBytes: Uint8Array): Buffer {
  return Buffer.concat([CERT_CONTEXT, certificateBytes.subarray(0, 62)]);
}

/** The message the device key signs: "PC1-CODE" ‖ bytes 0–133. */
export function codeSigningInput(codeBytes: Uint8Array): Buffer {
  return Buffer.concat([CODE_CONTEXT, codeBytes.subarray(0, 134)]);
}

/** Bytes 0–61 of a certificate, to be signed by the issuer. */
export function encodeCertificateBody(fields: DeviceCertificateFields): Buffer {
  if (!isId(fields.accountId) || !isId(fields.deviceId))
    throw new RangeError('ids are 16 lower-case hex characters');
  if (fields.devicePublicKey.length !== 32) throw new RangeError('devicePublicKey is 32 bytes');
  const body = Buffer.alloc(62);
  body.writeUInt8(PC1_VERSION, 0);
  body.writeUInt8(fields.kid, 1);
  Buffer.from(fields.accountId, 'hex').copy(body, 2);
  Buffer.from(fields.deviceId, 'hex').copy(body, 10);
  fields.devicePublicKey.copy(body, 18);
  body.writeUInt32BE(fields.offlineLimit, 50);
  body.writeUInt32BE(fields.enrolledAt, 54);
  body.writeUInt32BE(fields.expiresAt, 58);
  return body;
}

export function parseCertificate(bytes: Uint8Array): DeviceCertificate | null {
  if (bytes.length !== CERTIFICATE_BYTES) return null;
  const b = Buffer.from(bytes);
  const version = b.readUInt8(0);
  if (version !== PC1_VERSION) return null;
  return {
    version,
    kid: b.readUInt8(1),
    accountId: b.subarray(2, 10).toString('hex'),
    deviceId: b.subarray(10, 18).toString('hex'),
    devicePublicKey: b.subarray(18, 50),
    offlineLimit: b.readUInt32BE(50),
    enrolledAt: b.readUInt32BE(54),
    expiresAt: b.readUInt32BE(58),
    issuerSig: b.subarray(62, 126),
    bytes: b,
  };
}

/** Structural parse of "PC1:…" text; null when the prefix, Base45, length or version is wrong. */
export function parsePc1(text: string): Pc1Code | null {
  if (!text.startsWith(PC1_PREFIX)) return null;
  const decoded = decodeBase45(text.slice(PC1_PREFIX.length));
  if (decoded === null || decoded.length !== CODE_BYTES) return null;
  const bytes = Buffer.from(decoded);
  const certificate = parseCertificate(bytes.subarray(0, CERTIFICATE_BYTES));
  if (certificate === null) return null;
  return {
    certificate,
    counter: bytes.readUInt32BE(126),
    issuedAt: bytes.readUInt32BE(130),
    deviceSig: bytes.subarray(134, 198),
    bytes,
  };
}

/** Bytes 0–133 of a code: the certificate followed by counter and issue time. */
export function encodeCodeBody(certificate: Uint8Array, counter: number, issuedAt: number): Buffer {
  if (certificate.length !== CERTIFICATE_BYTES) throw new RangeError('a certificate is 126 bytes');
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(counter, 0);
  tail.writeUInt32BE(issuedAt, 4);
  return Buffer.concat([certificate, tail]);
}

export function formatPc1(codeBytes: Uint8Array): string {
  if (codeBytes.length !== CODE_BYTES) throw new RangeError('a PC1 code is 198 bytes');
  return PC1_PREFIX + encodeBase45(codeBytes);
}
