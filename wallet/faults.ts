// Sandbox fault injection: latency, hangs, connection resets and error statuses on the wallet's own endpoints,
// before the handler runs or after it has committed (a "dropped response" when the money already moved).
import type { Request, RequestHandler, Response } from 'express';

export interface FaultSpec {
  /** Applies to requests whose path starts with this (never to /v1/sandbox/*). */
  path: string;
  latencyMs?: number | undefined;
  hang?: boolean | undefined;
  reset?: boolean | undefined;
  status?: number | undefined;
  /** Probability 0–1 that a matching request is hit. */
  rate: number;
  phase: 'before' | 'after';
  /** How many requests it may still hit; absent = unlimited. */
  count?: number | undefined;
}

export interface Fault extends FaultSpec {
  id: number;
}

const SANDBOX_PREFIX = '/v1/sandbox';
const FAULTS_MAX = 100;

export class FaultTable {
  #faults: Fault[] = [];
  #nextId = 1;
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  add(spec: FaultSpec): Fault {
    if (this.#faults.length >= FAULTS_MAX) this.#faults.shift();
    const fault = { ...spec, id: this.#nextId++ };
    this.#faults.push(fault);
    return fault;
  }

  clear(): number {
    const cleared = this.#faults.length;
    this.#faults = [];
    return cleared;
  }

  list(): Fault[] {
    return this.#faults.map((fault) => ({ ...fault }));
  }

  /** The fault that hits this request, if any; a hit uses up one of its count. */
  take(path: string): Fault | null {
    if (path.startsWith(SANDBOX_PREFIX)) return null;
    for (const fault of this.#faults) {
      if (!path.startsWith(fault.path) || this.#random() >= fault.rate) continue;
      if (fault.count !== undefined) {
        fault.count -= 1;
        if (fault.count <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
      }
      return { ...fault };
    }
    return null;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function injectedBody(status: number): string {
  return JSON.stringify({ error: { code: 'injected_fault', message: `sandbox fault: status ${status}` } });
}

/**
 * Acts out the fault's effect. A hang does nothing at all: the socket stays open until the client gives up
 * or close() destroys every connection. Returns false when only latency was asked for.
 */
function act(fault: Fault, req: Request, send: (status: number, body: string) => void): boolean {
  if (fault.reset) {
    req.socket.destroy();
    return true;
  }
  if (fault.hang) return true;
  if (fault.status !== undefined) {
    send(fault.status, injectedBody(fault.status));
    return true;
  }
  return false;
}

export function faultMiddleware(faults: FaultTable, closing: AbortSignal): RequestHandler {
  return async (req, res, next) => {
    const fault = faults.take(req.path);
    if (fault === null) return next();
    if (fault.phase === 'after') {
      interceptResponse(fault, req, res, closing);
      return next();
    }
    await delay(fault.latencyMs ?? 0, closing);
    const sendFresh = (status: number, body: string): void => {
      res.status(status).type('application/json').send(body);
    };
    if (!act(fault, req, sendFresh)) next();
  };
}

/** Lets the handler run and commit, then delays, drops or replaces what it answered. */
function interceptResponse(fault: Fault, req: Request, res: Response, closing: AbortSignal): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  const replace = (status: number, body: string): void => {
    res.statusCode = status;
    res.removeHeader('etag');
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    end(body);
  };
  res.end = ((...args: unknown[]) => {
    void delay(fault.latencyMs ?? 0, closing).then(() => {
      if (!act(fault, req, replace)) end(...args);
    });
    return res;
  }) as Response['end'];
}
