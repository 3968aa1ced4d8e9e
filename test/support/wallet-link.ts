// The network between the gateway and the sandbox wallet, as a TCP relay on loopback that a test can cut and
// restore. Cut: nothing listens on the port, so every new connection is refused (ECONNREFUSED) — the store has lost
// its line — and open connections are destroyed. Restore: the same port listens and relays again.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class WalletLink {
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #port = 0;

  private constructor(target: URL) {
    this.#targetHost = target.hostname;
    this.#targetPort = Number(target.port);
  }

  /** A link to the wallet at `targetUrl`, up, on a free loopback port. */
  static async open(targetUrl: string): Promise<WalletLink> {
    const link = new WalletLink(new URL(targetUrl));
    await link.restore();
    return link;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get up(): boolean {
    return this.#server !== null;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    this.#server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
    // Let the gateway's HTTP pool see its idle connections close before the next request.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  async restore(): Promise<void> {
    if (this.#server !== null) return;
    const server = createServer((client) => this.#relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the link has no TCP address');
    this.#port = address.port;
    this.#server = server;
  }

  close(): Promise<void> {
    return this.cut();
  }

  #relay(client: Socket): void {
    const upstream = connect(this.#targetPort, this.#targetHost);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }
}
