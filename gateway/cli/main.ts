#!/usr/bin/env node
// The `tillgate` bin as tsc builds it (dist/gateway/cli/main.js) and tsx runs it; what is installed is the same
// program bundled, dist/bin/tillgate.js (bundle.ts).
import { runProgram } from './program.js';

process.exitCode = await runProgram(process.argv.slice(2));
