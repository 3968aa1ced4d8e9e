// `tillgate wallet`: a real sandbox wallet in-process, stopped through the io's stop signal as Ctrl-C would.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { type CapturedIo, capturedIo, cli } from './test-io.js';

const dir = mkdtempSync(join(tmpdir(), 'tillgate-wallet-cmd-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function started(io: CapturedIo, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let waited = 0; waited < 10_000; waited += 10) {
    const match = io.out.match(pattern);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`wallet did not start: ${io.out}${io.err}`);
}

describe('tillgate wallet', () => {
  it('serves until stopped, printing its URL and admin key once', async () => {
    const io = capturedIo();
    const running = runCli(['wallet', '--port', '0', '--data', dir], io);
    const [, url] = await started(io, /listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
    const [, adminKey] = io.out.match(/sandbox admin key: (\S+)\n/)!;
    expect(io.out).toContain(`kept in ${join(dir, 'wallet.sqlite')}`);
    const reply = await fetch(`${url}/v1/sandbox/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ balance: 500, currency: 'JPY' }),
    });
    expect(reply.status).toBe(200);
    io.interrupt();
    expect(await running).toBe(0);
    expect(io.out).toMatch(/sandbox wallet stopped \(SIGINT\)\n$/);
    expect(io.out.split(adminKey!).length - 1).toBe(3); // the key line, the curl line, the paycode line
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(io.err).toContain('"msg":"sandbox wallet listening"');
    expect(io.err).not.toContain(adminKey);

    const again = capturedIo();
    const restarted = runCli(['wallet', '--port', '0', '--data', dir, '--json'], again);
    const [line] = await started(again, /^\{.*\}\n/);
    expect(JSON.parse(line!)).toMatchObject({
      sandboxAdminKey: adminKey,
      database: join(dir, 'wallet.sqlite'),
    });
    again.interrupt();
    expect(await restarted).toBe(0);
  });

  it('explains a port in use (exit 1) and wants --port and --data (exit 2)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const busy = await cli(['wallet', '--port', String(port), '--data', dir]);
      expect(busy).toMatchObject({
        status: 1,
        stderr: 'tillgate wallet: the port is already in use; pick another with --port\n',
      });
    } finally {
      server.close();
    }
    for (const argv of [
      ['wallet', '--data', dir],
      ['wallet', '--port', '0'],
      ['wallet', '--port', '70000', '--data', dir],
    ]) {
      expect((await cli(argv)).status).toBe(2);
    }
  });
});
