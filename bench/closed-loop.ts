// Closed-loop load with autocannon: `connections` keep-alive connections, each sending its next request as soon as
// the last answered, for a fixed time. Every request is made by `next()` (a fresh pay code each), and every answer
// is checked by `ok()`: only checked answers count towards the rate.
import autocannon, { type AutocannonRequest } from 'autocannon';
import { cpuTimeMs } from './children.js';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  /** Answers that passed ok(). */
  ok: number;
  /** Answers that did not, and transport errors. */
  bad: number;
  durationSec: number;
  okPerSec: number;
  /** autocannon's latency histogram (whole ms). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** The first failing answer, for the report (bodies hold no secrets: they are payments or echoes). */
  firstBad?: string;
  /** next() ran dry before the time was up; the rate is still answers ÷ elapsed time. */
  exhausted: boolean;
  /** CPU time the server process used per checked answer (robust to other load on the machine), when its pid is known. */
  serverCpuMsPerOk?: number;
}

export async function closedLoop(options: {
  url: string;
  connections: number;
  durationSec: number;
  next: () => LoadRequest | undefined;
  ok: (status: number, body: string) => boolean;
  serverPid?: number;
}): Promise<LoadResult> {
  let ok = 0;
  let bad = 0;
  let firstBad: string | undefined;
  let exhausted = false;
  let stop = (): void => {};
  const request: AutocannonRequest = {
    setupRequest: (raw) => {
      const made = options.next();
      if (made === undefined) {
        exhausted = true;
        stop();
        return { ...raw, method: 'GET', path: '/healthz', headers: {} };
      }
      return { ...raw, ...made };
    },
    onResponse: (status, body) => {
      if (options.ok(status, body)) ok++;
      else if (!exhausted) {
        bad++;
        firstBad ??= `${status} ${body.slice(0, 300)}`;
      }
    },
  };
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSec,
    timeout: 30,
    requests: [request],
  });
  stop = () => instance.stop();
  const cpuBefore = options.serverPid === undefined ? 0 : cpuTimeMs(options.serverPid);
  const result = await instance;
  const cpuMs = options.serverPid === undefined ? undefined : cpuTimeMs(options.serverPid) - cpuBefore;
  bad += result.errors;
  return {
    ok,
    bad,
    durationSec: result.duration,
    okPerSec: ok / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    ...(firstBad === undefined ? {} : { firstBad }),
    exhausted,
    ...(cpuMs === undefined ? {} : { serverCpuMsPerOk: cpuMs / ok }),
  };
}
