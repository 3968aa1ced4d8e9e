// The uploader lease over two connections to one SQLite file, as two processes would hold it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../gateway/db/open.js';
import { Lease } from './lease.js';

let dir: string;
let a: Db;
let b: Db;
let clock: number;
const now = () => clock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillgate-lease-'));
  a = openDatabase(join(dir, 'gateway.sqlite'));
  b = openDatabase(join(dir, 'gateway.sqlite'));
  clock = 1_000;
});

afterEach(() => {
  a.close();
  b.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Lease', () => {
  it('is held by one at a time, renewed by its holder, and free again once released', () => {
    const first = new Lease(a, 'uploader', 5_000, now);
    const second = new Lease(b, 'uploader', 5_000, now);
    expect(first.acquire()).toBe(true);
    expect(second.acquire()).toBe(false);
    clock += 4_000;
    expect(first.acquire()).toBe(true);
    clock += 4_000;
    expect(second.acquire()).toBe(false);
    expect(second.current()).toEqual({ holder: first.holder, expiresAt: 10_000 });
    first.release();
    expect(second.acquire()).toBe(true);
  });

  it('with minHeldMs, is renewed only once less than that is left', () => {
    const first = new Lease(a, 'uploader', 5_000, now);
    const second = new Lease(b, 'uploader', 5_000, now);
    expect(first.acquire(3_000)).toBe(true);
    clock += 2_000;
    expect(first.acquire(3_000)).toBe(true);
    expect(first.current()?.expiresAt).toBe(6_000);
    expect(second.acquire()).toBe(false);
    clock += 1;
    expect(first.acquire(3_000)).toBe(true);
    expect(first.current()?.expiresAt).toBe(8_001);
    first.release();
    expect(second.acquire()).toBe(true);
    expect(first.acquire(3_000)).toBe(false);
  });

  it('passes to another once it expires', () => {
    const first = new Lease(a, 'uploader', 5_000, now);
    const second = new Lease(b, 'uploader', 5_000, now);
    expect(first.acquire()).toBe(true);
    clock += 5_000;
    expect(second.acquire()).toBe(true);
    expect(first.acquire()).toBe(false);
    first.release();
    expect(second.current()?.holder).toBe(second.holder);
  });

  it('is taken over at once from a process of this host that is gone', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    a.prepare('INSERT INTO sync_leases (name, holder, expires_at) VALUES (?, ?, ?)').run(
      'uploader',
      `${hostname()}:${gone}:dead`,
      clock + 60_000,
    );
    const live = `${hostname()}:${process.pid === 1 ? 2 : 1}:init`;
    const second = new Lease(b, 'uploader', 5_000, now);
    expect(second.acquire()).toBe(true);
    a.prepare('UPDATE sync_leases SET holder = ?').run(live);
    expect(new Lease(a, 'uploader', 5_000, now).acquire()).toBe(false);
  });
});
