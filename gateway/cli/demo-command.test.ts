// `tillgate demo` as a newcomer runs it: the built bin as a child process on free loopback ports. The banner has
// the register keys, the URLs and the curl lines; the one-line curl pays (run by bash, as pasted into a shell),
// so does the scan-path pair; demo.json has the fields scripts read, and is readable by its owner only; Ctrl-C
// stops it with exit 0.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/bin/tillgate.js');
const run = promisify(execFile);

let dir: string;
let demo: ChildProcess;
let banner = '';
let exited: Promise<number | null>;

/** A port P with P and P+1 both free on 127.0.0.1 a moment ago (the demo's gateway and wallet). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await listenOnce(0);
    if (port < 65_535 && (await listenOnce(port + 1).catch(() => null)) !== null) return port;
  }
  throw new Error('no two adjacent free ports on 127.0.0.1');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillgate-demo-cli-'));
  const port = await freePortPair();
  demo = spawn(
    process.execPath,
    [MAIN, 'demo', '--port', String(port), '--data', join(dir, 'data'), '--customer-delay-ms', '50'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
  demo.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 20 s:\n${banner}`)), 20_000);
    demo.stdout!.on('data', (chunk: Buffer) => {
      banner += chunk.toString('utf8');
      if (banner.includes('Stop with Ctrl-C')) {
        clearTimeout(timer);
        resolve();
      }
    });
    demo.once('exit', (code) => reject(new Error(`demo exited ${code}:\n${banner}`)));
  });
}, 30_000);

afterAll(async () => {
  if (demo.exitCode === null) demo.kill('SIGKILL');
  await exited;
  rmSync(dir, { recursive: true, force: true });
});

/** The banner's lines that are shell commands (they start with curl). */
const curlLines = () =>
  banner
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('curl '));

async function shell(command: string): Promise<{ [field: string]: unknown }> {
  const { stdout } = await run('bash', ['-c', command], { cwd: ROOT, timeout: 30_000 });
  return JSON.parse(stdout);
}

describe('tillgate demo', () => {
  it('prints the URLs, every register key and the curl lines, and writes demo.json for scripts', () => {
    const file = join(dir, 'data', 'demo.json');
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(written)).toEqual(
      expect.arrayContaining(['gatewayUrl', 'walletUrl', 'storeId', 'sandboxAdminKey', 'registers']),
    );
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(written.registers).toHaveLength(2);
    for (const register of written.registers) {
      expect(register).toEqual({
        id: expect.any(String),
        laneId: expect.any(String),
        key: expect.any(String),
      });
      expect(banner).toContain(register.key);
    }
    expect(banner).toContain(written.gatewayUrl);
    expect(banner).toContain(written.walletUrl);
    expect(banner).toContain(`${written.gatewayUrl}/lane`);
    expect(curlLines()).toHaveLength(3);
  });

  it('pays with the one-line curl, as pasted into a shell', async () => {
    const oneLine = curlLines().find((line) => line.includes('payCode'))!;
    const payment = await shell(oneLine);
    expect(payment).toMatchObject({
      state: 'approved',
      mode: 'online',
      amount: 800,
      decision: { approved: true },
    });
  });

  it("pays by scan: the first curl opens the payment, the lane's customer scans, the second follows it", async () => {
    const [open, follow] = curlLines();
    const created = await shell(open!);
    expect(created).toMatchObject({ state: 'awaiting_scan', amount: 1200 });
    // The long poll answers at each change of state: follow it until the decision, as the banner says.
    let decided = created;
    for (
      let asked = 0;
      asked < 5 && ['awaiting_scan', 'authorizing'].includes(String(decided.state));
      asked++
    )
      decided = await shell(follow!.replace('ID', String(created.id)));
    expect(decided).toMatchObject({ id: created.id, state: 'approved', decision: { approved: true } });
  });

  it('stops on Ctrl-C with exit 0', async () => {
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(banner).toMatch(/demo stopped/);
  });
});
