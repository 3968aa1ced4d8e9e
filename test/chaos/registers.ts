// The registers of a chaos run: each pays with its own customers' phones (a fresh PC1 code per payment), sends
// every payment with an Idempotency-Key, and keeps what it was told. A request whose answer never came (the
// gateway was killed) is kept and sent again, with the same key and body, once the gateway is back: that answer,
// or the payment it leads to, is what the register was told.
import { randomBytes } from 'node:crypto';
import type { SandboxPhone } from '../../wallet/sandbox-phone.js';
import type { ToldApproved } from './audit.js';

// biome-ignore lint/suspicious/noExplicitAny: replies are read field by field
type Json = any;

export interface Customer {
  accountId: string;
  phone: SandboxPhone;
}

interface Job {
  key: string;
  body: { amount: number; currency: 'JPY'; orderRef: string; payCode: string };
}

const FINAL = new Set([
  'approved',
  'declined',
  'cancelled',
  'expired',
  'voided',
  'refunded',
  'partially_refunded',
]);
const OPEN = new Set(['awaiting_scan', 'authorizing']);
/** Statuses that mean "ask again later": the gateway is stopping, or the first request under the key still runs. */
const RETRY_LATER = new Set([409, 429, 503]);

/** An answer no fault explains (a 400, a changed amount): the suite fails on it rather than retry. */
export class UnexpectedAnswer extends Error {}

export class ChaosRegister {
  readonly id: string;
  readonly key: string;
  readonly told: ToldApproved[] = [];
  /** Requests sent whose outcome this register does not know yet. */
  readonly unresolved: Job[] = [];
  /** Milliseconds from sending a payment to holding its decision, for decisions that came in one request. */
  readonly decisionMs: number[] = [];
  tried = 0;
  declined = 0;
  /** Requests that got no usable answer (the gateway died or refused for now) and were sent again later. */
  interrupted = 0;
  readonly #customers: readonly Customer[];
  readonly #random: () => number;
  readonly #maxAmount: number;
  #orders = 0;

  constructor(options: {
    id: string;
    customers: readonly Customer[];
    random: () => number;
    maxAmount: number;
    key?: string;
  }) {
    this.id = options.id;
    this.key = options.key ?? `rk_${randomBytes(24).toString('base64url')}`;
    this.#customers = options.customers;
    this.#random = options.random;
    this.#maxAmount = options.maxAmount;
  }

  /** Pays until `stop()` says so: first the payments left unknown, then new ones. Never throws for faults. */
  async run(gatewayUrl: string, stop: () => boolean, timeoutMs: number): Promise<void> {
    while (!stop()) {
      const job = this.unresolved.shift() ?? this.#newJob();
      const known = await this.send(gatewayUrl, job, timeoutMs);
      if (!known) {
        this.interrupted += 1;
        this.unresolved.push(job);
        return;
      }
    }
  }

  /** With the gateway up for good: resends every unknown payment until its final state is known. */
  async settle(gatewayUrl: string, timeoutMs: number, failuresMax = 20): Promise<void> {
    let failures = 0;
    while (this.unresolved.length > 0) {
      if (await this.send(gatewayUrl, this.unresolved[0]!, timeoutMs)) {
        this.unresolved.shift();
        continue;
      }
      failures += 1;
      if (failures > failuresMax)
        throw new Error(`${this.id}: ${this.unresolved.length} payments never resolved`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Sends (or resends) one payment; true when its final state is known. Unexpected answers throw. */
  async send(gatewayUrl: string, job: Job, timeoutMs: number): Promise<boolean> {
    const startedAt = performance.now();
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const headers = {
        authorization: `Bearer ${this.key}`,
        'content-type': 'application/json',
        'idempotency-key': job.key,
      };
      const created = await fetch(`${gatewayUrl}/v1/payments`, {
        method: 'POST',
        headers,
        body: JSON.stringify(job.body),
        signal,
      });
      const body: Json = await created.json();
      if (RETRY_LATER.has(created.status) || created.status >= 500) return false;
      if (created.status !== 201)
        throw new UnexpectedAnswer(`${this.id}: answer ${created.status}: ${JSON.stringify(body)}`);
      let payment: Json = body;
      while (OPEN.has(payment.state)) {
        const polled = await fetch(`${gatewayUrl}/v1/payments/${payment.id}?waitMs=5000`, {
          headers: { authorization: `Bearer ${this.key}` },
          signal,
        });
        if (polled.status !== 200) return false;
        payment = await polled.json();
      }
      if (!FINAL.has(payment.state)) throw new UnexpectedAnswer(`${this.id}: state ${payment.state}`);
      this.#record(job, payment, performance.now() - startedAt);
      return true;
    } catch (error) {
      if (error instanceof UnexpectedAnswer) throw error;
      return false;
    }
  }

  #record(job: Job, payment: Json, ms: number): void {
    this.decisionMs.push(ms);
    if (payment.amount !== job.body.amount)
      throw new UnexpectedAnswer(`payment ${payment.id}: another amount`);
    if (payment.state === 'approved') this.told.push({ paymentId: payment.id, amount: payment.amount });
    else this.declined += 1;
  }

  #newJob(): Job {
    this.tried += 1;
    this.#orders += 1;
    const customer = this.#customers[Math.floor(this.#random() * this.#customers.length)]!;
    return {
      key: `${this.id}-${this.#orders}`,
      body: {
        amount: 100 + Math.floor(this.#random() * (this.#maxAmount - 100)),
        currency: 'JPY',
        orderRef: `${this.id}-${this.#orders}`,
        payCode: customer.phone.nextCode(Math.floor(Date.now() / 1000)),
      },
    };
  }
}
