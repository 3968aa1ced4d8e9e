// Integration: the serial scanner on a real pty pair made by socat, opened with the real serialport
// binding. Killing socat is the unplug (the stream closes with `disconnected`); starting it again the replug.
// Last, serial-read.ts's read on its own.
// Skipped only where socat is missing outside CI; in CI (process.env.CI set) it must run.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ScannerConfigSchema } from './config.js';
import { createScanner } from './factory.js';
import { runScannerContract, until } from './scanner-contract.case.js';
import { type ReadFd, withEventLoopRead } from './serial-read.js';

function socatAvailable(): boolean {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasSocat = socatAvailable();
const inCi = Boolean(process.env.CI);

/** The suite's title, naming why it is skipped when it is (CI always runs it: the test above fails there). */
function withReason(title: string): string {
  return hasSocat || inCi ? title : `${title} — SKIPPED: socat is missing (apt-get install socat)`;
}

describe('socat', () => {
  it.runIf(inCi)('is installed (the pty integration tests must run in CI)', () => {
    expect(hasSocat).toBe(true);
  });
});

class VirtualPortPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'tillgate-socat-'));
  readonly scannerSide = join(this.dir, 'ttyV0');
  readonly deviceSide = join(this.dir, 'ttyV1');
  #socat: ChildProcess | undefined;
  #writer: number | undefined;

  async start(): Promise<void> {
    const socat = spawn('socat', [
      '-d',
      '-d',
      `pty,raw,echo=0,link=${this.scannerSide}`,
      `pty,raw,echo=0,link=${this.deviceSide}`,
    ]);
    socat.stderr.resume();
    this.#socat = socat;
    await until(() => existsSync(this.scannerSide) && existsSync(this.deviceSide), 5000, 'socat links');
    this.#writer = openSync(this.deviceSide, 'w');
  }

  /** Bytes from the "scanner"; silently lost while the pair is down, as with a pulled cable. */
  write(data: string): void {
    if (this.#writer === undefined) return;
    try {
      writeSync(this.#writer, data);
    } catch {
      // EIO once socat is gone
    }
  }

  async stop(): Promise<void> {
    const socat = this.#socat;
    this.#socat = undefined;
    if (this.#writer !== undefined) closeSync(this.#writer);
    this.#writer = undefined;
    if (socat === undefined || socat.exitCode !== null) return;
    const exited = new Promise((resolve) => socat.once('exit', resolve));
    socat.kill('SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasSocat && !inCi)(withReason('serial scanner on a socat pty pair'), () => {
  const logger = pino({ level: 'silent' });
  let pair: VirtualPortPair | undefined;

  runScannerContract({
    name: 'serial (real serialport binding, socat pty pair)',
    create: async ({ now, dedupeWindowMs }) => {
      pair = new VirtualPortPair();
      await pair.start();
      const config = ScannerConfigSchema.parse({
        type: 'serial',
        id: 'pty-1',
        path: pair.scannerSide,
        dedupeWindowMs,
        reconnectInitialDelayMs: 10,
        reconnectMaxDelayMs: 50,
        presencePollMs: 100,
      });
      return createScanner(config, { logger, now });
    },
    feed: async (_scanner, text) => {
      pair?.write(`]Q1${text}\r`);
    },
    feedPartial: async (_scanner, text) => {
      pair?.write(`]Q1${text.slice(0, 150)}`);
      await new Promise((resolve) => setTimeout(resolve, 30)); // let the bytes reach the scanner side
    },
    unplug: async () => pair?.stop(),
    replug: async () => pair?.start(),
    cleanup: async () => {
      await pair?.dispose();
      pair = undefined;
    },
    waitMs: 5000,
    quietMs: 100,
  });
});

describe.skipIf(!hasSocat && !inCi)(withReason('socat pty pair: disconnect'), () => {
  it('reports killing socat as an unplug through the stream close alone, with no partial scan', async () => {
    const pair = new VirtualPortPair();
    await pair.start();
    const config = ScannerConfigSchema.parse({
      type: 'serial',
      id: 'pty-2',
      path: pair.scannerSide,
      presencePollMs: 0, // no polling: the disconnect must come from serialport's 'close'
      reconnectInitialDelayMs: 10,
      reconnectMaxDelayMs: 50,
    });
    const scanner = createScanner(config, { logger: pino({ level: 'silent' }) });
    const texts: string[] = [];
    const statuses: string[] = [];
    scanner.on('scan', (scan) => texts.push(scan.text));
    scanner.on('status', (status) =>
      statuses.push(`${status.status}${status.code ? ` ${status.code}` : ''}`),
    );
    try {
      await scanner.open();
      await scanner.claim();
      await scanner.enable();
      pair.write(']Q1PC1:BEFORE\r');
      await until(() => texts.length === 1, 5000, 'scan before');
      pair.write(']Q1PC1:HALF-OF-A-SC');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await pair.stop();
      await until(() => statuses.includes('detached E_OFFLINE'), 5000, 'detached');
      await pair.start();
      await until(() => statuses.filter((status) => status === 'attached').length === 2, 5000, 'reattached');
      pair.write(']Q1PC1:AFTER\r');
      await until(() => texts.length === 2, 5000, 'scan after');
      expect(texts).toEqual(['PC1:BEFORE', 'PC1:AFTER']);
    } finally {
      await scanner.close();
      await pair.dispose();
    }
  });
});

describe.skipIf(!hasSocat && !inCi)(withReason('socat pty pair: the event-loop read'), () => {
  it('replaces the native read, reads what arrives after a wait, and a close cancels a waiting read', async () => {
    const pair = new VirtualPortPair();
    await pair.start();
    const { SerialPort } = await import('serialport');
    const binding = withEventLoopRead(SerialPort.binding);
    const port = await binding.open({ path: pair.scannerSide, baudRate: 9600 });
    try {
      expect(port.read).not.toBe(Object.getPrototypeOf(port).read);
      const buffer = Buffer.alloc(1024);
      // Nothing sent yet: the read waits for the poller rather than failing or spinning.
      const first = port.read(buffer, 0, buffer.length);
      await new Promise((resolve) => setTimeout(resolve, 30));
      pair.write(']Q1PC1:FIRST\r');
      const { bytesRead } = await first;
      expect(buffer.subarray(0, bytesRead).toString()).toBe(']Q1PC1:FIRST\r');
      const waiting = port.read(buffer, 0, buffer.length);
      const outcome = waiting.then(
        () => 'resolved',
        (error: { canceled?: boolean }) => (error.canceled ? 'canceled' : 'failed'),
      );
      await port.close();
      expect(await outcome).toBe('canceled');
    } finally {
      if (port.isOpen) await port.close();
      await pair.dispose();
    }
  });

  it('waits for the poller after a read that emptied the port, and reads at once after one that filled its buffer', async () => {
    const pair = new VirtualPortPair();
    await pair.start();
    // The real read system call, each outcome recorded: a byte count, or EAGAIN for a read that found nothing.
    const outcomes: Array<number | 'EAGAIN'> = [];
    const recordingRead: ReadFd = (fd, buffer, offset, length, position) => {
      try {
        const bytesRead = readSync(fd, buffer, offset, length, position);
        outcomes.push(bytesRead);
        return bytesRead;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') outcomes.push('EAGAIN');
        throw error;
      }
    };
    const { SerialPort } = await import('serialport');
    const port = await withEventLoopRead(SerialPort.binding, recordingRead).open({
      path: pair.scannerSide,
      baudRate: 9600,
    });
    const buffer = Buffer.alloc(1024);
    const readText = async (length: number): Promise<string> => {
      const { bytesRead } = await port.read(buffer, 0, length);
      return buffer.subarray(0, bytesRead).toString();
    };
    try {
      // A fresh port is tried first (bytes may be waiting); it has none yet.
      const first = readText(buffer.length);
      pair.write(']Q1PC1:FIRST\r');
      expect(await first).toBe(']Q1PC1:FIRST\r');
      // That read took less than its buffer: the next waits for the poller without trying first.
      const second = readText(buffer.length);
      pair.write(']Q1PC1:SECOND\r');
      expect(await second).toBe(']Q1PC1:SECOND\r');
      expect(outcomes).toEqual(['EAGAIN', 13, 14]);

      // Reads of 4 bytes fill their buffer: each next one reads at once, without the poller, until one comes short.
      outcomes.length = 0;
      const head = readText(4);
      pair.write(']Q1PC1:THIRD\r');
      let text = await head;
      let readAtOnce = 0;
      while (!text.endsWith('\r')) {
        const filled = outcomes.at(-1) === 4;
        const next = port.read(buffer, 0, 4);
        // Settled already (its then runs before a callback queued after it): it did not wait for the poller.
        const atOnce = await Promise.race([next.then(() => true), Promise.resolve().then(() => false)]);
        if (filled) expect(atOnce).toBe(true);
        if (atOnce) readAtOnce++;
        const { bytesRead } = await next;
        text += buffer.subarray(0, bytesRead).toString();
      }
      expect(text).toBe(']Q1PC1:THIRD\r');
      expect(readAtOnce).toBeGreaterThan(0);
      expect(outcomes).not.toContain('EAGAIN');
    } finally {
      if (port.isOpen) await port.close();
      await pair.dispose();
    }
  });
});
