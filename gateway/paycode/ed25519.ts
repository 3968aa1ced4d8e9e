// Ed25519 over node:crypto with raw 32-byte keys, as the PC1 format and the wallet API carry them.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Parsed public keys by their raw bytes. Parsing costs about as much as a verification, and the same few issuer
 * keys and each phone's key come back with every code. Bounded: the oldest entry goes first.
 */
const publicKeys = new Map<string, KeyObject>();
const PUBLIC_KEYS_MAX = 4_096;

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes');
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  const known = publicKeys.get(id);
  if (known !== undefined) return known;
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  if (publicKeys.size >= PUBLIC_KEYS_MAX) publicKeys.delete(publicKeys.keys().next().value!);
  publicKeys.set(id, key);
  return key;
}

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

export function rawSeed(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return der.subarray(der.length - 32);
}

export interface Ed25519KeyPair {
  seed: Buffer;
  publicKey: Buffer;
}

export function generateEd25519(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { seed: rawSeed(privateKey), publicKey: rawPublicKey(publicKey) };
}

export function signEd25519(key: KeyObject, message: Uint8Array): Buffer {
  return sign(null, message, key);
}

/** False for a bad signature and for a key the curve rejects; never throws on attacker-chosen bytes. */
export function verifyEd25519(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** `verifyEd25519` on libuv's thread pool: the event loop goes on meanwhile. Never rejects. */
export function verifyEd25519Async(
  key: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(null, message, key, signature, (error, valid) => resolve(error === null && valid));
    } catch {
      resolve(false);
    }
  });
}
