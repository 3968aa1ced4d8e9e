// Runs a CommonJS file through V8 with a code cache made at build time, so that a start deserializes the compiled
// program instead of parsing and compiling ~1.5 MB of JavaScript (Node 22 has module.enableCompileCache for this;
// Node 20 has only vm.Script's cachedData). V8 checks a cache against its own version and flags but of the source
// only its length, so the cache file starts with the SHA-256 of the source it was made from, and a cache that
// does not fit is not used: a stale cache costs time, never correctness.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export const CODE_CACHE_SUFFIX = '.v8-cache';
const DIGEST_BYTES = 32;

export interface CompiledModule {
  exports: unknown;
  script: Script;
  /** SHA-256 of the file's source. */
  digest: Buffer;
  /** Whether the compiled code came from the cache. */
  fromCache: boolean;
}

/** Compiles and evaluates `file` as Node's CommonJS loader would; with `useCache`, from its cache when it fits. */
export function runCommonJs(file: string, options: { useCache: boolean }): CompiledModule {
  const source = readFileSync(file, 'utf8');
  const digest = createHash('sha256').update(source).digest();
  const cachedData = options.useCache ? readCodeCache(file, digest) : undefined;
  // The wrapper is part of what V8 caches: it must be the same when the cache is made and when it is used.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  return { exports: module.exports, script, digest, fromCache };
}

/** Writes the cache of what `compiled` has compiled so far (its module's top-level code, at least). */
export function writeCodeCache(file: string, compiled: CompiledModule): void {
  const partial = `${file}${CODE_CACHE_SUFFIX}.partial`;
  writeFileSync(partial, Buffer.concat([compiled.digest, compiled.script.createCachedData()]));
  renameSync(partial, `${file}${CODE_CACHE_SUFFIX}`); // never a half-written cache
}

function readCodeCache(file: string, digest: Buffer): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(`${file}${CODE_CACHE_SUFFIX}`);
  } catch {
    return undefined; // none: compiled as usual
  }
  return bytes.subarray(0, DIGEST_BYTES).equals(digest) ? bytes.subarray(DIGEST_BYTES) : undefined;
}
