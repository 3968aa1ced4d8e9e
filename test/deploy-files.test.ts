// The files in deploy/ as the machine will read them: the systemd units (hardened, restarted on failure, given
// longer to stop than the gateway's shutdown grace, reloading on SIGHUP, starting commands this tillgate has),
// the udev rules (hidraw to the tillgate group, well-formed), and `systemd-analyze verify` where it is installed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { HID_PERMISSION_HINT } from '../drivers/hid-loader.js';
import { findCommand } from '../gateway/cli/commands.js';
import { ConfigSchema } from '../gateway/config.js';

const DEPLOY = join(import.meta.dirname, '..', 'deploy');

/** `Key=value` lines of a unit file, every value of a key in order. */
function unit(name: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  for (const raw of readFileSync(join(DEPLOY, name), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    expect(eq, `${name}: ${line}`).toBeGreaterThan(0);
    const key = line.slice(0, eq);
    entries.set(key, [...(entries.get(key) ?? []), line.slice(eq + 1)]);
  }
  return entries;
}

function one(entries: Map<string, string[]>, key: string): string | undefined {
  return entries.get(key)?.at(-1);
}

function seconds(value: string): number {
  const match = /^(\d+)(ms|s|min)?$/.exec(value);
  if (match === null) throw new Error(`not a time span: ${value}`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'min' ? n * 60 : n;
}

/** The tillgate command a unit's ExecStart runs. */
function tillgateArgs(execStart: string): string[] {
  const [node, main, ...args] = execStart.split(/\s+/);
  expect(node).toBe('/usr/bin/node');
  expect(main).toBe('/opt/tillgate/dist/bin/tillgate.js');
  return args;
}

describe('deploy/tillgate.service', () => {
  const service = unit('tillgate.service');

  it('gives the gateway longer to stop than the longest shutdown grace the config allows', () => {
    const schema = z.toJSONSchema(ConfigSchema, { io: 'input' }) as unknown as {
      properties: { http: { properties: { shutdownGraceMs: { maximum: number } } } };
    };
    const graceMaxSec = schema.properties.http.properties.shutdownGraceMs.maximum / 1000;
    expect(seconds(one(service, 'TimeoutStopSec')!)).toBeGreaterThan(graceMaxSec + 5);
  });

  it('restarts on failure, reloads on SIGHUP, and runs `tillgate start` as the tillgate user', () => {
    expect(one(service, 'Restart')).toBe('on-failure');
    expect(one(service, 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one(service, 'User')).toBe('tillgate');
    const args = tillgateArgs(one(service, 'ExecStart')!);
    expect(findCommand(args[0]!)).toBeDefined();
    expect(args).toEqual(['start', '--config', '/etc/tillgate/config.json']);
  });

  it('is hardened: nothing writable but its state directory, no privileges, scanners the only devices', () => {
    expect(Object.fromEntries([...service].map(([k, v]) => [k, v.at(-1)]))).toMatchObject({
      StateDirectory: 'tillgate',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      DevicePolicy: 'closed',
      UMask: '0077',
    });
    expect(service.get('DeviceAllow')).toEqual(expect.arrayContaining(['char-hidraw rw', 'char-ttyACM rw']));
    // V8 compiles to machine code at run time; this would kill node at start.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(service.has('PrivateDevices')).toBe(false);
  });
});

describe('deploy/tillgate-backup.service and .timer', () => {
  it('runs `tillgate backup` into a directory, hourly', () => {
    const backup = unit('tillgate-backup.service');
    const args = tillgateArgs(one(backup, 'ExecStart')!);
    expect(args.slice(0, 1)).toEqual(['backup']);
    expect(findCommand('backup')!.usage).toContain('--out FILE|DIR');
    expect(one(backup, 'ReadWritePaths')).toBe(args[args.indexOf('--out') + 1]);
    expect(one(unit('tillgate-backup.timer'), 'OnCalendar')).toBe('hourly');
  });
});

describe('deploy/99-tillgate-scanners.rules', () => {
  const rules = readFileSync(join(DEPLOY, '99-tillgate-scanners.rules'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));

  it('gives hidraw scanners to the tillgate group, read-write for it only', () => {
    const hidraw = rules.filter((r) => r.includes('SUBSYSTEM=="hidraw"'));
    expect(hidraw.length).toBeGreaterThan(0);
    for (const rule of hidraw) {
      expect(rule).toContain('GROUP="tillgate"');
      expect(rule).toContain('MODE="0660"');
    }
  });

  it("the driver's permission hint names these rules and the group the unit runs in", () => {
    const group = one(unit('tillgate.service'), 'Group');
    expect(HID_PERMISSION_HINT).toContain('99-tillgate-scanners.rules');
    expect(HID_PERMISSION_HINT).toContain(`GROUP="${group}"`);
    expect(rules.some((r) => HID_PERMISSION_HINT.includes(r.split(', GROUP')[0]!))).toBe(true);
  });

  it('every rule is well formed: matches with ==, assignments with =, vendor ids as lsusb prints them', () => {
    for (const rule of rules) {
      const pairs = rule.split(/,\s*/);
      for (const pair of pairs) expect(pair, rule).toMatch(/^[A-Z]+(\{\w+\})?(==|=)"[^"]*"$/);
      expect(pairs.some((p) => p.includes('=='))).toBe(true);
      for (const vendor of rule.matchAll(/idVendor\}=="([^"]*)"/g))
        expect(vendor[1]).toMatch(/^[0-9a-f]{4}$/);
    }
  });
});

const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe.skipIf(!analyze)(
  analyze ? 'systemd-analyze verify' : 'systemd-analyze verify — SKIPPED: systemd-analyze is not installed',
  () => {
    it('finds nothing wrong with the units', () => {
      const dir = mkdtempSync(join(tmpdir(), 'tillgate-units-'));
      try {
        const files = ['tillgate.service', 'tillgate-backup.service', 'tillgate-backup.timer'];
        for (const file of files) copyFileSync(join(DEPLOY, file), join(dir, file));
        const result = spawnSync('systemd-analyze', ['verify', ...files.map((f) => join(dir, f))], {
          encoding: 'utf8',
        });
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
