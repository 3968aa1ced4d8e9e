// The child processes a benchmark starts (sandbox wallet, gateway, echo server, scenarios): each is registered
// here and killed when the script exits, fails or is interrupted, so a benchmark never leaves a server behind.
// Output goes to a log file in the run's directory; on a failure the tail of each log is printed.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { distPath, sleep } from './support.js';

const running = new Set<BenchChild>();
let hooked = false;

export interface BenchChild {
  name: string;
  process: ChildProcess;
  /** '' when the child writes to this process's own streams. */
  logFile: string;
  /** SIGTERM, then SIGKILL after graceMs. Resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
}

export interface SpawnOptions {
  /** Where stdout (unless piped) and stderr go; without it the child shares this process's stdout and stderr. */
  logFile?: string;
  /** Keep stdout as a pipe (to read a start-up line); otherwise it goes to the log file too. */
  pipeStdout?: boolean;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  cwd?: string;
}

/** Runs `node <script> …args` (script relative to dist/) as a registered child. */
export function spawnNode(name: string, script: string, args: string[], options: SpawnOptions): BenchChild {
  hookExit();
  const log = options.logFile === undefined ? 'inherit' : openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), distPath(script), ...args], {
    stdio: ['ignore', options.pipeStdout ? 'pipe' : log, log],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  if (typeof log === 'number') closeSync(log);
  const handle: BenchChild = {
    name,
    process: child,
    logFile: options.logFile ?? '',
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: (graceMs = 15_000) => stopChild(handle, graceMs),
  };
  running.add(handle);
  child.once('exit', () => running.delete(handle));
  return handle;
}

async function stopChild(child: BenchChild, graceMs: number): Promise<void> {
  if (child.exited()) return;
  const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Kills every child still running; called on exit, on a signal, and by scripts on failure. */
export function killAll(): void {
  for (const child of running) if (!child.exited()) child.process.kill('SIGKILL');
  running.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(code);
    });
  }
}

/** Prints the last lines of each child's log, to explain a failure. */
export function printLogTails(children: readonly BenchChild[], lines = 15): void {
  for (const child of children) {
    if (child.logFile === '' || !existsSync(child.logFile)) continue;
    const tail = readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines);
    console.error(`\n--- last lines of ${child.name} (${child.logFile}) ---\n${tail.join('\n')}`);
  }
}

/** The first line the child writes on stdout, parsed as JSON (the rest of stdout is drained). */
export function firstJsonLine<T>(child: BenchChild, timeoutMs: number): Promise<T> {
  const stdout = child.process.stdout;
  if (stdout === null) throw new Error(`${child.name}: stdout is not piped`);
  return new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(
      () => reject(new Error(`${child.name}: no start-up line in ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.process.once('exit', (code) => reject(new Error(`${child.name} exited (${code}) before starting`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.on('line', () => {}); // keep draining
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${child.name}: start-up line is not JSON`));
      }
    });
  });
}

/** One GET with node:http (no keep-alive), resolving to the status code, or 0 when the connection failed. */
export function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', () => resolve(0));
    req.end();
  });
}

/** Polls `url` every pollMs until it answers 200; the ms from `since` (performance.now()) to that answer. */
export async function waitUntilOk(
  url: string,
  child: BenchChild,
  options: { since: number; timeoutMs: number; pollMs: number },
): Promise<number> {
  const deadline = options.since + options.timeoutMs;
  for (;;) {
    if ((await getStatus(url)) === 200) return performance.now() - options.since;
    if (child.exited()) throw new Error(`${child.name} exited before ${url} answered 200`);
    if (performance.now() > deadline) throw new Error(`${url} not 200 within ${options.timeoutMs} ms`);
    await sleep(options.pollMs);
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; 10 ms ticks). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * (1000 / CLOCK_TICKS_PER_SEC);
}

/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK) is not reachable from Node). */
const CLOCK_TICKS_PER_SEC = 100;
