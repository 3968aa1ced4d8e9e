// Loads the public pay-code vectors: ../shared/vectors when the checkout sits beside it, else the copy in test/vectors.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface VectorFile {
  now: number;
  issuerKeys: { kid: number; publicKey: string }[];
  cases: { name: string; code: string; expect: string; fields?: Record<string, string | number> }[];
}

export function findVectors(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '../../../shared/vectors/paycode-v1.json'),
    resolve(here, '../vectors/paycode-v1.json'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`paycode-v1.json not found in ${candidates.join(' or ')}`);
  return found;
}

export function loadVectors(): VectorFile {
  return JSON.parse(readFileSync(findVectors(), 'utf8')) as VectorFile;
}
