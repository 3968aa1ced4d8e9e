// The V8 code cache runner behind dist/bin/tillgate.js: a file evaluated as CommonJS, a cache used when it was
// made from that very source and ignored otherwise, and the cache that `npm run build` writes used by plain `node`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommonJs, writeCodeCache } from './code-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'tillgate-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runCommonJs', () => {
  writeFileSync(join(dir, 'helper.cjs'), 'module.exports = (n) => n * 2;\n');

  it('evaluates a file as CommonJS, with require relative to it', () => {
    const file = join(dir, 'relative.cjs');
    writeFileSync(
      file,
      "exports.answer = require('./helper.cjs')(21);\nexports.where = [__filename, __dirname];\n",
    );
    const compiled = runCommonJs(file, { useCache: true });
    expect(compiled.exports).toEqual({ answer: 42, where: [file, dir] });
    expect(compiled.fromCache).toBe(false); // there is none
  });

  it('uses the cache made from the same source', () => {
    const file = join(dir, 'same.cjs');
    writeFileSync(file, 'exports.answer = 42;\n');
    writeCodeCache(file, runCommonJs(file, { useCache: false }));
    const cached = runCommonJs(file, { useCache: true });
    expect(cached.fromCache).toBe(true);
    expect(cached.exports).toEqual({ answer: 42 });
  });

  it('ignores a cache made from another source, even one of the same length (V8 checks only the length)', () => {
    const file = join(dir, 'changed.cjs');
    writeFileSync(file, 'exports.answer = 42;\n');
    writeCodeCache(file, runCommonJs(file, { useCache: false }));
    for (const source of ['exports.answer = 43;\n', 'exports.answer = 4300;\n']) {
      writeFileSync(file, source);
      const compiled = runCommonJs(file, { useCache: true });
      expect(compiled.fromCache).toBe(false);
      expect(compiled.exports).toEqual({ answer: Number(source.match(/\d+/)![0]) });
    }
  });
});

describe('the built program (npm run build)', () => {
  it('has a code cache that plain node uses, so a start skips compiling it', () => {
    const program = fileURLToPath(new URL('../../dist/bin/program.cjs', import.meta.url));
    const codeCache = fileURLToPath(new URL('../../dist/gateway/cli/code-cache.js', import.meta.url));
    const check = `import { runCommonJs } from ${JSON.stringify(codeCache)};
const { fromCache, exports } = runCommonJs(${JSON.stringify(program)}, { useCache: true });
console.log(JSON.stringify({ fromCache, runProgram: typeof exports.runProgram }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', check], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ fromCache: true, runProgram: 'function' });
  });
});
