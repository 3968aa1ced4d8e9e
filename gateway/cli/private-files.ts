// The commands' small JSON files: read with a failure that names the file; those holding sandbox secrets
// (phone seeds, demo keys) written whole or not at all, mode 0600, under a lock for read-modify-write.
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { failure } from './command.js';

/** How long to wait for another command holding a lock. */
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 20;
/** A lock older than this was left by a process that died; no holder keeps one this long. */
const LOCK_STALE_MS = 30_000;

/** The JSON value in `file`; a file that cannot be read or parsed is a failure naming it (as `label`). */
export function readJsonFile(file: string, label = file): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw failure(`cannot read ${label}: ${(error as Error).message}`, error);
  }
}

/** Replaces `file` atomically (temp file + rename); the directory is made 0700 if missing. */
export function writePrivateFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
}

/** Runs `fn` while holding `${file}.lock`. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  await acquire(lock);
  try {
    return await fn();
  } finally {
    unlinkSync(lock);
  }
}

async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (removedStale(lock)) continue;
    if (Date.now() >= deadline) {
      throw failure(`${lock} is held by another command; if none is running, delete the file`);
    }
    await sleep(LOCK_POLL_MS);
  }
}

function removedStale(lock: string): boolean {
  try {
    if (Date.now() - statSync(lock).mtimeMs < LOCK_STALE_MS) return false;
    unlinkSync(lock);
    return true;
  } catch {
    return true; // gone already: try again at once
  }
}
