// The feed's refresh time and limit changes are read where sync/ writes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { META_KEYS } from '../../sync/meta.js';
import { type Db, openDatabase } from '../db/open.js';
import {
  FEED_REFRESHED_AT_KEY,
  OFFLINE_LIMITS_KEY,
  readFeedRefreshedAt,
  readLimitOverrides,
} from './feed-source.js';

let dir: string | undefined;
let db: Db | undefined;

afterEach(() => {
  db?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  db = undefined;
  dir = undefined;
});

function open(): Db {
  dir = mkdtempSync(join(tmpdir(), 'tillgate-feed-'));
  db = openDatabase(join(dir, 'gateway.sqlite'));
  return db;
}

const put = (key: string, value: string) =>
  db!.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);

describe('feed source', () => {
  it('uses the meta keys sync/ writes', () => {
    expect(FEED_REFRESHED_AT_KEY).toBe(META_KEYS.feedRefreshedAt);
    expect(OFFLINE_LIMITS_KEY).toBe(META_KEYS.offlineLimits);
  });

  it('never refreshed: null (stale); refreshed: the unix ms; garbage: null', () => {
    const db = open();
    expect(readFeedRefreshedAt(db)).toBeNull();
    put(FEED_REFRESHED_AT_KEY, '1767225600000');
    expect(readFeedRefreshedAt(db)).toBe(1_767_225_600_000);
    put(FEED_REFRESHED_AT_KEY, 'yesterday');
    expect(readFeedRefreshedAt(db)).toBeNull();
    put(FEED_REFRESHED_AT_KEY, '-1');
    expect(readFeedRefreshedAt(db)).toBeNull();
  });

  it('returns the stored limit changes as written', () => {
    const db = open();
    expect(readLimitOverrides(db)).toBeNull();
    put(OFFLINE_LIMITS_KEY, '{"storeLimit":1}');
    expect(readLimitOverrides(db)).toBe('{"storeLimit":1}');
  });
});
