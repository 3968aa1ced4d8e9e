// Key rotation without downtime (docs/deployment.md). Register keys: a second key per register (nextKeySha256)
// accepted alongside the first, then the first retired — each step a config reload. Store keys: the wallet accepts
// the old and the new key for a grace period while the gateway reloads the new one. Shown in-process and through
// SIGHUP to a real `tillgate start` process, with payments going on between the steps.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../gateway/cli/run-cli.js';
import { capturedIo } from '../gateway/cli/test-io.js';
import { type ConfigInput, parseConfig } from '../gateway/config.js';
import { sha256Hex } from '../gateway/http/auth.js';
import { SandboxPhone } from '../wallet/sandbox-phone.js';
import { createStore, type RunningWallet, startWallet } from '../wallet/server.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

const MAIN = fileURLToPath(new URL('../gateway/cli/main.ts', import.meta.url));

function newKey(): string {
  return `rk_${randomBytes(24).toString('base64url')}`;
}

async function statusWith(baseUrl: string, key: string): Promise<number> {
  const response = await fetch(`${baseUrl}/v1/status`, { headers: { authorization: `Bearer ${key}` } });
  await response.body?.cancel();
  return response.status;
}

describe('in a running gateway', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ lanes: 1 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a register accepts its next key beside its current one, then only the next one', async () => {
    const config = stack.gateway.config;
    const [current] = stack.registers;
    const next = newKey();
    const register = config.registers[0]!;
    expect(await statusWith(stack.gateway.url, next)).toBe(401);

    const rotating = { ...register, nextKeySha256: sha256Hex(next) };
    expect(stack.gateway.reload({ ...config, registers: [rotating] }).applied).toEqual(['registers']);
    expect(await statusWith(stack.gateway.url, current!.key)).toBe(200);
    expect(await statusWith(stack.gateway.url, next)).toBe(200);

    stack.gateway.reload({ ...config, registers: [{ ...register, keySha256: sha256Hex(next) }] });
    expect(await statusWith(stack.gateway.url, current!.key)).toBe(401);
    expect(await statusWith(stack.gateway.url, next)).toBe(200);
    current!.key = next;
  });

  it('a rotated store key: refused at once without a grace period, until the gateway reloads the new one', async () => {
    const phone = await stack.phone(await stack.account(10_000));
    const pay = async () =>
      (
        await stack.api(0, 'POST', '/v1/payments', {
          body: { amount: 100, currency: 'JPY', orderRef: 'rot', payCode: phone.nextCode(nowSec()) },
        })
      ).body;
    expect(await pay()).toMatchObject({ state: 'approved', mode: 'online' });

    const rotated = createStore(stack.wallet, stack.gateway.config.storeId);
    expect((await pay()).decision).toEqual({ approved: false, reason: 'wallet_declined' });

    const plan = stack.gateway.reload({
      ...stack.gateway.config,
      wallet: { ...stack.gateway.config.wallet, storeKey: rotated.storeKey },
    });
    expect(plan).toEqual({ applied: ['wallet.storeKey'], restartNeeded: [] });
    expect(await pay()).toMatchObject({ state: 'approved', mode: 'online' });
    expect(stack.logs.join('')).not.toContain(rotated.storeKey);
  });
});

describe('`tillgate start` reloads on SIGHUP', () => {
  let dir: string;
  let wallet: RunningWallet;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillgate-rotation-'));
    wallet = await startWallet({
      dbPath: join(dir, 'wallet.sqlite'),
      port: 0,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await wallet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(file: string, config: ConfigInput): void {
    parseConfig(config);
    writeFileSync(file, JSON.stringify(config));
  }

  async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('register keys and the store key change with payments going on, and a bad file changes nothing', async () => {
    const file = join(dir, 'gateway.json');
    const { storeId, storeKey } = createStore(wallet, 'store-sighup');
    const first = newKey();
    const second = newKey();
    const config = (register: object, key: string): ConfigInput => ({
      storeId,
      dataDir: join(dir, 'gateway'),
      http: { host: '127.0.0.1', port: 0 },
      wallet: { url: wallet.url, storeKey: key },
      registers: [{ id: 'register-1', laneId: 'lane-1', ...register } as ConfigInput['registers'][number]],
      lanes: [{ id: 'lane-1' }],
      sync: { enabled: false },
      offline: { velocity: { maxPayments: 1_000 } },
    });
    writeConfig(file, config({ keySha256: sha256Hex(first) }, storeKey));
    child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      stdout += String(chunk);
    });
    child.stderr!.on('data', (chunk) => {
      output += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    await until(() => output.includes('gateway ready'), 'the gateway to start');
    const url = (JSON.parse(output.split('\n').find((l) => l.includes('gateway ready'))!) as { url: string })
      .url;

    const accountId = (
      (await (
        await fetch(`${wallet.url}/v1/sandbox/accounts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${wallet.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ balance: 100_000, currency: 'JPY' }),
        })
      ).json()) as { accountId: string }
    ).accountId;
    const phone = await SandboxPhone.enroll(wallet.url, wallet.adminKey, accountId, {
      enrolledAt: nowSec() - 30 * 86_400,
    });
    const pay = async (key: string) => {
      const response = await fetch(`${url}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          amount: 100,
          currency: 'JPY',
          orderRef: 'hup',
          payCode: phone.nextCode(nowSec()),
        }),
      });
      return (await response.json()) as { state: string; mode?: string };
    };
    const reloads = () => output.split('\n').filter((l) => l.includes('configuration reloaded')).length;
    const hangUp = async (count: number) => {
      child!.kill('SIGHUP');
      await until(() => reloads() === count, `reload ${count}`);
    };

    expect(await pay(first)).toMatchObject({ state: 'approved', mode: 'online' });
    expect(await statusWith(url, second)).toBe(401);

    // Step 1: the register gets its next key; both work.
    writeConfig(file, config({ keySha256: sha256Hex(first), nextKeySha256: sha256Hex(second) }, storeKey));
    await hangUp(1);
    expect(await pay(first)).toMatchObject({ state: 'approved' });
    expect(await pay(second)).toMatchObject({ state: 'approved' });

    // Step 2: the first key is retired.
    writeConfig(file, config({ keySha256: sha256Hex(second) }, storeKey));
    await hangUp(2);
    expect(await statusWith(url, first)).toBe(401);
    expect(await pay(second)).toMatchObject({ state: 'approved', mode: 'online' });

    // The store key: the wallet keeps the old one for a grace period (whole unix seconds, so 3 s is at least
    // 2 s) while the gateway reloads the new one; once the old key is refused, payments still go online.
    const rotated = createStore(wallet, storeId, { previousKeyGraceSec: 3 });
    expect(await pay(second)).toMatchObject({ state: 'approved', mode: 'online' });
    writeConfig(file, config({ keySha256: sha256Hex(second) }, rotated.storeKey));
    await hangUp(3);
    const oldKeyStatus = async () =>
      (await fetch(`${wallet.url}/v1/issuer-keys`, { headers: { authorization: `Bearer ${storeKey}` } }))
        .status;
    await until(async () => (await oldKeyStatus()) === 401, 'the grace period of the old store key to end');
    expect(await pay(second)).toMatchObject({ state: 'approved', mode: 'online' });

    // A broken file: logged, refused, nothing changes.
    writeFileSync(file, '{"storeId": ');
    child!.kill('SIGHUP');
    await until(() => output.includes('reload refused'), 'the refusal');
    expect(await pay(second)).toMatchObject({ state: 'approved', mode: 'online' });

    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const secret of [first, second, storeKey, rotated.storeKey]) expect(output).not.toContain(secret);
    // The log goes through a buffer written off the event loop (asyncStdout): every line whole, and the last one,
    // logged just before the process exits, still written.
    const lines = stdout.trimEnd().split('\n');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 30, msg: 'gateway stopped' });
  }, 40_000);
});

describe('`tillgate start --watch-config` (Windows has no SIGHUP)', () => {
  it('reloads when the file changes, and ignores a broken write until a good one follows', async () => {
    const stack = await startStack({ lanes: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'tillgate-watch-'));
    try {
      await stack.gateway.close();
      const file = join(dir, 'gateway.json');
      const next = newKey();
      const base = {
        storeId: stack.gateway.config.storeId,
        dataDir: join(dir, 'gateway'),
        http: { host: '127.0.0.1', port: 0 },
        wallet: { url: stack.wallet.url, storeKey: stack.storeKey },
        lanes: [{ id: 'lane-1' }],
        sync: { enabled: false },
      };
      const registers = (keySha256: string) => [{ id: 'register-1', laneId: 'lane-1', keySha256 }];
      writeFileSync(
        file,
        JSON.stringify({ ...base, registers: registers(sha256Hex(stack.registers[0]!.key)) }),
      );
      const io = capturedIo({ cwd: dir });
      const running = runCli(['start', '--config', file, '--watch-config'], io);
      const lines = () => io.out.split('\n').filter(Boolean);
      await expect.poll(() => io.out.includes('gateway ready'), { timeout: 10_000 }).toBe(true);
      const url = (JSON.parse(lines().find((l) => l.includes('gateway ready'))!) as { url: string }).url;

      writeFileSync(file, '{"storeId": "half-writ');
      await expect
        .poll(() => io.out.includes('reload refused: bad config file'), { timeout: 5_000 })
        .toBe(true);
      expect(await statusWith(url, stack.registers[0]!.key)).toBe(200);

      writeFileSync(file, JSON.stringify({ ...base, registers: registers(sha256Hex(next)) }));
      await expect.poll(() => io.out.includes('configuration reloaded'), { timeout: 5_000 }).toBe(true);
      expect(await statusWith(url, next)).toBe(200);
      expect(await statusWith(url, stack.registers[0]!.key)).toBe(401);
      io.interrupt();
      expect(await running).toBe(0);
      expect(io.out).not.toContain(next);
    } finally {
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
