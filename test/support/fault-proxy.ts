// A fault-injecting TCP relay on loopback, put between the gateway and the sandbox wallet by the chaos suites. Its
// mode is switched at run time: pass, latency, hang (accept, never answer), reset (RST at once), truncate (the
// answer's body cut after n bytes, then RST), status (an HTTP error answered by the proxy itself, the wallet never
// asked) and flapping (a seeded schedule of the others). A mode change cuts the open connections, as a flapping
// line does, so the new mode meets the next request rather than only the next connection.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { seededRandom } from '../../bench/support.js';

export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'latency'; ms: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'truncate'; bytes: number }
  | { kind: 'status'; status: 500 | 503 | 429 };

export type FaultKind = FaultMode['kind'];

export interface FlappingOptions {
  seed: number;
  /** Each step of the schedule lasts a random time in [minMs, maxMs]. */
  minMs: number;
  maxMs: number;
  /** The modes drawn from; every kind by default. */
  modes?: readonly FaultMode[];
}

const HEADER_END = Buffer.from('\r\n\r\n');
const STATUS_TEXT: Record<number, string> = {
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Every kind once, with moderate parameters: what flapping draws from unless told otherwise. */
export const ALL_FAULTS: readonly FaultMode[] = [
  { kind: 'pass' },
  { kind: 'latency', ms: 300 },
  { kind: 'hang' },
  { kind: 'reset' },
  { kind: 'truncate', bytes: 10 },
  { kind: 'status', status: 500 },
  { kind: 'status', status: 503 },
  { kind: 'status', status: 429 },
];

export class FaultProxy {
  readonly #server: Server;
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  /** Connections met by each kind of mode, for the suites' reports. */
  readonly connections: Record<FaultKind, number> = {
    pass: 0,
    latency: 0,
    hang: 0,
    reset: 0,
    truncate: 0,
    status: 0,
  };
  #mode: FaultMode = { kind: 'pass' };
  #flapTimer: NodeJS.Timeout | null = null;
  #switches = 0;

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#targetHost = target.hostname;
    this.#targetPort = Number(target.port);
  }

  /** A proxy to the HTTP server at `targetUrl`, passing, on a free loopback port. */
  static async start(targetUrl: string): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(targetUrl));
    server.on('connection', (client) => proxy.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
    return `http://127.0.0.1:${address.port}`;
  }

  get mode(): FaultMode {
    return this.#mode;
  }

  /** How many times the mode changed. */
  get switches(): number {
    return this.#switches;
  }

  /** Sets the mode for the next requests (stops flapping); open connections are cut. */
  set(mode: FaultMode): void {
    this.#stopFlapping();
    this.#switch(mode);
  }

  /** Alternates modes by a seeded schedule until set() or close(). */
  flap(options: FlappingOptions): void {
    this.#stopFlapping();
    const schedule = flappingSchedule(options);
    const step = (): void => {
      const next = schedule.next().value!;
      this.#switch(next.mode);
      this.#flapTimer = setTimeout(step, next.ms);
      this.#flapTimer.unref();
    };
    step();
  }

  async close(): Promise<void> {
    this.#stopFlapping();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#cutAll();
    await closed;
  }

  #stopFlapping(): void {
    if (this.#flapTimer !== null) clearTimeout(this.#flapTimer);
    this.#flapTimer = null;
  }

  #switch(mode: FaultMode): void {
    this.#mode = mode;
    this.#switches += 1;
    this.#cutAll();
  }

  #cutAll(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  #accept(client: Socket): void {
    const mode = this.#mode;
    this.connections[mode.kind] += 1;
    this.#track(client);
    switch (mode.kind) {
      case 'reset':
        client.resetAndDestroy();
        return;
      case 'hang':
        // Read and drop whatever comes; answer nothing until the client gives up or the mode changes.
        client.resume();
        return;
      case 'status':
        this.#answerStatus(client, mode.status);
        return;
      default:
        this.#relay(client, mode);
    }
  }

  #answerStatus(client: Socket, status: number): void {
    let seen = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      if (seen.indexOf(HEADER_END) === -1 || client.writableEnded) return;
      const body = JSON.stringify({
        error: { code: `http_${status}`, message: 'injected by the fault proxy' },
      });
      const head = [
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(body)}`,
        ...(status === 429 ? ['retry-after: 1'] : []),
        'connection: close',
      ];
      client.end(`${head.join('\r\n')}\r\n\r\n${body}`);
    });
  }

  #relay(client: Socket, mode: Extract<FaultMode, { kind: 'pass' | 'latency' | 'truncate' }>): void {
    const upstream = connect(this.#targetPort, this.#targetHost);
    this.#track(upstream);
    // The wallet's side ends gracefully through 'end' (after any delayed chunks); a failure or a client that
    // goes away tears down both.
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    const delayMs = mode.kind === 'latency' ? mode.ms : 0;
    forward(client, upstream, delayMs);
    if (mode.kind === 'truncate') truncateAnswer(upstream, client, mode.bytes);
    else forward(upstream, client, delayMs);
  }
}

/** The endless schedule flap() follows: the same seed gives the same modes for the same times. */
export function* flappingSchedule(options: FlappingOptions): Generator<{ mode: FaultMode; ms: number }> {
  const random = seededRandom(options.seed);
  const modes = options.modes ?? ALL_FAULTS;
  if (modes.length === 0) throw new Error('flapping needs at least one mode');
  if (!(options.minMs > 0 && options.maxMs >= options.minMs))
    throw new Error('flapping needs 0 < minMs <= maxMs');
  for (;;) {
    const mode = modes[Math.floor(random() * modes.length)]!;
    yield { mode, ms: options.minMs + Math.floor(random() * (options.maxMs - options.minMs + 1)) };
  }
}

/** Relays one direction, each chunk after `delayMs` (timers of equal delay fire in order, so order is kept). */
function forward(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk: Buffer) => {
    if (delayMs === 0) to.write(chunk);
    else setTimeout(() => to.destroyed || to.write(chunk), delayMs).unref();
  });
  from.on('end', () => {
    if (delayMs === 0) to.end();
    else setTimeout(() => to.end(), delayMs).unref();
  });
}

/** Passes the answer's head and `bytes` bytes of its body, then resets the client. */
function truncateAnswer(upstream: Socket, client: Socket, bytes: number): void {
  let seen = Buffer.alloc(0);
  let cutDone = false;
  const cutHere = (upTo: number): void => {
    cutDone = true;
    client.write(seen.subarray(0, upTo), () => client.resetAndDestroy());
  };
  upstream.on('data', (chunk: Buffer) => {
    if (cutDone) return;
    seen = Buffer.concat([seen, chunk]);
    const headerEnd = seen.indexOf(HEADER_END);
    if (headerEnd === -1) return;
    const cut = headerEnd + HEADER_END.length + bytes;
    if (seen.length >= cut) cutHere(cut);
  });
  // The whole answer was shorter than the cut: send what came, then reset all the same.
  upstream.on('end', () => cutDone || cutHere(seen.length));
}
