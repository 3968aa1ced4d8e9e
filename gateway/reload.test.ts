// What a reload may change: register keys, operators and the store key at once; the rest named as needing a
// restart; a file that would strand a register or change the store refused whole.
import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from './config.js';
import { planReload, ReloadRefused } from './reload.js';

const base: ConfigInput = {
  storeId: 'store-1',
  dataDir: '/tmp/tillgate-reload',
  wallet: { url: 'http://127.0.0.1:8421', storeKey: 'store-key-one-of-some-length' },
  registers: [{ id: 'reg-1', laneId: 'lane-1', keySha256: 'a'.repeat(64) }],
  lanes: [{ id: 'lane-1' }, { id: 'lane-2' }],
};

function with_(changes: Partial<ConfigInput>) {
  return parseConfig({ ...base, ...changes });
}

describe('planReload', () => {
  it('applies register keys, operators and the store key; nothing when nothing changed', () => {
    expect(planReload(with_({}), with_({}))).toEqual({ applied: [], restartNeeded: [] });
    const next = with_({
      registers: [
        { id: 'reg-1', laneId: 'lane-1', keySha256: 'a'.repeat(64), nextKeySha256: 'b'.repeat(64) },
      ],
      operators: [{ id: 'manager', keySha256: 'c'.repeat(64) }],
      wallet: { url: 'http://127.0.0.1:8421', storeKey: 'store-key-two-of-some-length' },
    });
    expect(planReload(with_({}), next)).toEqual({
      applied: ['registers', 'operators', 'wallet.storeKey'],
      restartNeeded: [],
    });
  });

  it('names what only a restart changes, never its value', () => {
    const next = with_({
      http: { port: 9000 },
      wallet: { url: 'http://10.0.0.1:8421', storeKey: 'store-key-one-of-some-length' },
      offline: { storeLimit: 1 },
    });
    expect(planReload(with_({}), next)).toEqual({
      applied: [],
      restartNeeded: ['http', 'offline', 'wallet.url'],
    });
  });

  it('refuses a new store id, and a register on a lane the running gateway does not have', () => {
    expect(() => planReload(with_({}), with_({ storeId: 'store-2' }))).toThrow(ReloadRefused);
    const strayLane = parseConfig({
      ...base,
      lanes: [...base.lanes, { id: 'lane-3' }],
      registers: [{ id: 'reg-3', laneId: 'lane-3', keySha256: 'd'.repeat(64) }],
    });
    expect(() => planReload(with_({}), strayLane)).toThrow(
      /lane lane-3, which the running gateway does not have/,
    );
  });
});

describe('the config schema for rotations and operators', () => {
  it('refuses a next key that is another register’s key, and an operator key that is a register key', () => {
    const problems = (changes: Partial<ConfigInput>) => {
      try {
        with_(changes);
        return [];
      } catch (error) {
        return (error as { problems: string[] }).problems;
      }
    };
    expect(
      problems({
        registers: [
          { id: 'reg-1', laneId: 'lane-1', keySha256: 'a'.repeat(64), nextKeySha256: 'b'.repeat(64) },
          { id: 'reg-2', laneId: 'lane-2', keySha256: 'b'.repeat(64) },
        ],
      }),
    ).toEqual(['registers.1.keySha256: two registers share one key']);
    expect(problems({ operators: [{ id: 'manager', keySha256: 'a'.repeat(64) }] })).toEqual([
      'operators.0.keySha256: an operator key must not also be a register key',
    ]);
  });
});
