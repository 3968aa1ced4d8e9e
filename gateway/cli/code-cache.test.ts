// The V8 code cache runner behind dist/bin/tillgate.js: a file evaluated as CommonJS, a cache used when it fits
// and ignored when it does not, and the cache that `npm run build` writes accepted by a plain `node`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readCodeCache, runCommonJs } from './code-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'tillgate-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runCommonJs', () => {
  const file = join(dir, 'program.cjs');
  writeFileSync(join(dir, 'helper.cjs'), 'module.exports = (n) => n * 2;\n');
  writeFileSync(
    file,
    "const double = require('./helper.cjs');\nexports.answer = double(21);\nexports.where = [__filename, __dirname];\n",
  );

  it('evaluates a file as CommonJS, with require relative to it', () => {
    const { exports } = runCommonJs(file);
    expect(exports).toEqual({ answer: 42, where: [file, dir] });
    expect(readCodeCache(file)).toBeUndefined();
  });

  it('uses a cache made from the same file and ignores one that does not fit it', () => {
    const cache = runCommonJs(file).script.createCachedData();
    writeFileSync(`${file}.v8-cache`, cache);
    const cached = runCommonJs(file, readCodeCache(file));
    expect(cached.script.cachedDataRejected).toBe(false);
    expect(cached.exports).toMatchObject({ answer: 42 });
    // A changed file (V8 checks the source) is compiled as if there were no cache.
    const changed = join(dir, 'changed.cjs');
    writeFileSync(changed, 'exports.answer = 43;\n');
    const other = runCommonJs(changed, cache);
    expect(other.script.cachedDataRejected).toBe(true);
    expect(other.exports).toEqual({ answer: 43 });
  });
});

describe('the built program (npm run build)', () => {
  it('has a code cache that plain node accepts, so a start skips compiling it', () => {
    const program = fileURLToPath(new URL('../../dist/bin/program.cjs', import.meta.url));
    const codeCache = fileURLToPath(new URL('../../dist/gateway/cli/code-cache.js', import.meta.url));
    const check = `import { readCodeCache, runCommonJs } from ${JSON.stringify(codeCache)};
const { script, exports } = runCommonJs(${JSON.stringify(program)}, readCodeCache(${JSON.stringify(program)}));
console.log(JSON.stringify({ rejected: script.cachedDataRejected, runProgram: typeof exports.runProgram }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', check], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ rejected: false, runProgram: 'function' });
  });
});
