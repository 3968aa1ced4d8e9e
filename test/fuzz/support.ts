// What the fuzz suites share: a raw HTTP client on 127.0.0.1 that sends exactly the bytes, headers and path it is
// given (no fetch normalisation), a search of text for secrets in the forms they may take on the wire, and a watch
// that counts unhandled rejections and uncaught exceptions while a suite runs.
import { request } from 'node:http';

export interface RawRequest {
  method: string;
  /** Sent as is: any character from 0x21 to 0xff. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request on its own connection; rejects only when the server does not answer. */
export function rawRequest(baseUrl: string, call: RawRequest): Promise<RawReply> {
  const { hostname, port } = new URL(baseUrl);
  if (hostname !== '127.0.0.1') throw new Error(`fuzz requests stay on 127.0.0.1, not ${hostname}`);
  const body = call.body === undefined ? undefined : Buffer.from(call.body);
  const headers = { ...call.headers };
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, method: call.method, path: call.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.setTimeout(call.timeoutMs ?? 5_000, () =>
      req.destroy(new Error(`no answer in ${call.timeoutMs ?? 5_000} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The forms a secret takes in a URL, a JSON string or a header: as is, percent-encoded, JSON-escaped. */
export function secretForms(secret: string): string[] {
  const forms = new Set([
    secret,
    encodeURIComponent(secret),
    encodeURI(secret),
    JSON.stringify(secret).slice(1, -1),
  ]);
  return [...forms];
}

/** The first secret any of whose forms occurs in `text`, or undefined. */
export function leakedSecret(text: string, secrets: Iterable<string>): string | undefined {
  for (const secret of secrets) if (secretForms(secret).some((form) => text.includes(form))) return secret;
  return undefined;
}

/** Counts what would crash a process: unhandled rejections and uncaught exceptions, while installed. */
export class CrashWatch {
  readonly seen: string[] = [];
  readonly #onRejection = (reason: unknown): void => {
    this.seen.push(`unhandledRejection: ${String(reason)}`);
  };
  readonly #onException = (error: Error): void => {
    this.seen.push(`uncaughtException: ${error.stack ?? String(error)}`);
  };

  install(): void {
    process.on('unhandledRejection', this.#onRejection);
    process.on('uncaughtException', this.#onException);
  }

  uninstall(): void {
    process.off('unhandledRejection', this.#onRejection);
    process.off('uncaughtException', this.#onException);
  }
}
