#!/usr/bin/env node
// The installed `tillgate` bin (dist/bin/tillgate.js): runs the bundled program, dist/bin/program.cjs, from its
// V8 code cache (code-cache.ts). Under `node --enable-source-maps` it loads the program with Node's own loader
// instead, which maps stack traces to the .ts sources through program.cjs.map.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommonJs } from './code-cache.js';

type Program = typeof import('./program.js');

const file = join(dirname(fileURLToPath(import.meta.url)), 'program.cjs');
const program = (
  process.sourceMapsEnabled
    ? createRequire(import.meta.url)(file)
    : runCommonJs(file, { useCache: true }).exports
) as Program;
process.exitCode = await program.runProgram(process.argv.slice(2));
