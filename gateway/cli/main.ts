#!/usr/bin/env node
// The `tillgate` bin: the process's streams around runCli, and runCli's answer as the exit status.
import type { CliIo } from './command.js';
import { runCli } from './run-cli.js';

const io: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  // Only a command that reads stdin opens it: an open stdin would keep the process alive.
  get stdin() {
    return process.stdin;
  },
};

process.exitCode = await runCli(process.argv.slice(2), io);
