// Time-ordered ids (UUID version 7, RFC 9562 §5.7) for the rows the gateway writes on every payment: payment ids,
// authorization ids and ledger entry ids. Each is a key of a unique index; random (version 4) ids put every insert
// on a random leaf page of those B-trees, so each commit wrote a page per index per payment to the WAL, and a
// large file read pages back from disk for inserts. Time-ordered ids append at the right edge: the payments of one
// commit share a page. They stay opaque strings to registers and the wallet; 74 of their 128 bits are random (a
// dedicated counter, RFC 9562 method 1, is not needed: the ids only need to be unique and roughly ordered).
import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Random bytes for many ids at once: one crypto call per RANDOM_POOL_IDS ids. */
const RANDOM_POOL_IDS = 256;
const pool = Buffer.alloc(16 * RANDOM_POOL_IDS);
let poolOffset = pool.length;

/** A UUID version 7 in its canonical text form: 48 bits of unix ms, version, variant, the rest random. */
export function timeOrderedId(nowMs: number = Date.now()): string {
  const ms = Math.floor(nowMs);
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 2 ** 48)
    throw new RangeError(`not a UUIDv7 time: ${nowMs}`);
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  const high = Math.floor(ms / 2 ** 16); // the top 32 bits
  b[0] = high >>> 24;
  b[1] = (high >>> 16) & 0xff;
  b[2] = (high >>> 8) & 0xff;
  b[3] = high & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // variant 10
  let text = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text += '-';
    text += HEX[b[i]!];
  }
  return text;
}
