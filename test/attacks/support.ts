// What every attack test needs: a customer with an enrolled phone on the store's clock, the checks that a refused
// attack cost nothing (no charge at the wallet, no ledger entry), and a tally of what was tried and what held,
// printed as one [chaos] line per suite.
import { expect } from 'vitest';
import type { EnrollOptions, SandboxPhone } from '../../wallet/sandbox-phone.js';
import { chaosReport } from '../support/chaos.js';
import type { OfflineStack } from '../support/offline.js';
import type { Json, Stack } from '../support/stack.js';

export interface Customer {
  accountId: string;
  phone: SandboxPhone;
  /** The phone's next code, made at the store's time. */
  code(): string;
}

export async function customer(
  s: OfflineStack,
  enroll: EnrollOptions = {},
  balance = 100_000,
): Promise<Customer> {
  const accountId = await s.stack.account(balance);
  const phone = await s.stack.phone(accountId, { enrolledAt: s.clock.sec - 30 * 86_400, ...enroll });
  return { accountId, phone, code: () => phone.nextCode(s.clock.sec) };
}

/** A POST /v1/payments with a payCode, whatever the answer (the attack tests look at refusals too). */
export async function attempt(
  stack: Stack,
  register: number,
  amount: number,
  payCode: string,
  extra: Record<string, unknown> = {},
): Promise<Json> {
  const reply = await stack.api(register, 'POST', '/v1/payments', {
    body: {
      amount,
      currency: 'JPY',
      orderRef: `attack-${Math.random().toString(36).slice(2)}`,
      payCode,
      ...extra,
    },
  });
  if (reply.status !== 201) throw new Error(`payment: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/**
 * Declined for `reason`, and nothing of it stands: no authorization in the ledger for the payment. (A decline after
 * a send the wallet may have seen records the reversal that makes sure it never stands: that entry is allowed.)
 */
export function expectRefused(stack: Stack, payment: Json, reason: string): void {
  expect(payment).toMatchObject({ state: 'declined', decision: { approved: false, reason } });
  const entries = stack.gateway.ledger.forPayment(payment.id);
  expect(entries.filter((e) => e.type !== 'reversal')).toEqual([]);
}

/** The tally of one attack file: each test names its attack and records that it held. */
export class Tally {
  readonly #suite: string;
  readonly #held = new Set<string>();
  #tried = 0;

  constructor(suite: string) {
    this.#suite = suite;
  }

  tried(count = 1): void {
    this.#tried += count;
  }

  held(attack: string): void {
    this.#held.add(attack);
  }

  report(): void {
    chaosReport(this.#suite, { attempts: this.#tried, attacksHeld: this.#held.size });
  }
}
