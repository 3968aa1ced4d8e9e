// Runs a CommonJS file through V8 with a code cache made at build time, so that a start deserializes the compiled
// program instead of parsing and compiling ~1.5 MB of JavaScript (Node 22 has module.enableCompileCache for this;
// Node 20 has only vm.Script's cachedData). V8 checks the cache against the source, its own version and its flags
// and compiles as usual when it does not fit, so a stale cache costs time, never correctness.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export const CODE_CACHE_SUFFIX = '.v8-cache';

export interface CompiledModule {
  exports: unknown;
  script: Script;
}

/** Compiles and evaluates `file` as Node's CommonJS loader would, using `cachedData` when V8 accepts it. */
export function runCommonJs(file: string, cachedData?: Buffer): CompiledModule {
  const source = readFileSync(file, 'utf8');
  // The wrapper is part of what V8 caches: it must be the same when the cache is made and when it is used.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script };
}

/** The cache for `file`, when there is one. */
export function readCodeCache(file: string): Buffer | undefined {
  try {
    return readFileSync(`${file}${CODE_CACHE_SUFFIX}`);
  } catch {
    return undefined;
  }
}
