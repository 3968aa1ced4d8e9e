// The sandbox phone: makes its Ed25519 key on the "phone", enrolls at a sandbox wallet over HTTP with the admin
// key, then shows one PC1 code per counter value as a real phone would. For the demo, `tillgate paycode` and tests.
import { generateEd25519 } from '../gateway/paycode/ed25519.js';
import { makePayCode } from '../gateway/paycode/phone.js';

export interface Enrollment {
  deviceId: string;
  accountId: string;
  /** 126 bytes, hex. */
  certificate: string;
  enrolledAt: number;
  expiresAt: number;
  kid: number;
  offlineLimit: number;
}

export interface EnrollOptions {
  enrolledAt?: number;
  offlineLimit?: number;
  expiresAt?: number;
}

export class SandboxPhone {
  readonly enrollment: Enrollment;
  readonly #deviceSeed: Buffer;
  readonly #certificate: Buffer;
  #counter: number;

  constructor(enrollment: Enrollment, deviceSeed: Buffer, lastCounter = 0) {
    this.enrollment = enrollment;
    this.#deviceSeed = deviceSeed;
    this.#certificate = Buffer.from(enrollment.certificate, 'hex');
    this.#counter = lastCounter;
  }

  static async enroll(
    walletUrl: string,
    adminKey: string,
    accountId: string,
    options: EnrollOptions = {},
  ): Promise<SandboxPhone> {
    const pair = generateEd25519();
    const response = await fetch(`${walletUrl.replace(/\/+$/, '')}/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ accountId, publicKey: pair.publicKey.toString('hex'), ...options }),
    });
    const body = (await response.json()) as Enrollment | { error: { code: string; message: string } };
    if (!response.ok || 'error' in body) {
      throw new Error(`enrollment failed: ${response.status} ${'error' in body ? body.error.code : ''}`);
    }
    return new SandboxPhone(body, pair.seed);
  }

  get deviceId(): string {
    return this.enrollment.deviceId;
  }

  get lastCounter(): number {
    return this.#counter;
  }

  /** The next code to display; the counter goes up by one each time. `issuedAt` in unix seconds. */
  nextCode(issuedAt: number): string {
    this.#counter += 1;
    return this.codeWithCounter(this.#counter, issuedAt);
  }

  /** A code for an exact counter value, e.g. to replay one. */
  codeWithCounter(counter: number, issuedAt: number): string {
    return makePayCode(this.#certificate, this.#deviceSeed, counter, issuedAt);
  }
}
