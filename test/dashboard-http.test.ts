// The dashboard's protection over plain HTTP: operator keys (Bearer or a session cookie, never in a URL), sign-in
// bounds, cross-site posts refused, sessions that end (sign-out, expiry, an operator removed by a reload), a strict
// CSP, text from payments escaped, and the operator event stream that hears every lane.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../gateway/http/auth.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

const OPERATOR_KEY = 'op_dashboard_http_test_key';
const OTHER_KEY = 'op_second_operator_key_0001';
const operators = [
  { id: 'manager', keySha256: sha256Hex(OPERATOR_KEY) },
  { id: 'night-shift', keySha256: sha256Hex(OTHER_KEY) },
];

let stack: Stack;
const clock = { offsetMs: 0 };

beforeAll(async () => {
  stack = await startStack({
    config: { operators, dashboard: { loginFailuresPerMinuteMax: 3, sessionTtlSec: 3600 } },
    now: () => Date.now() + clock.offsetMs,
  });
});

afterAll(async () => {
  await stack?.close();
});

function url(path: string): string {
  return stack.gateway.url + path;
}

async function signIn(key: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url('/login'), {
    method: 'POST',
    body: new URLSearchParams({ key }),
    redirect: 'manual',
    headers: { 'sec-fetch-site': 'same-origin', ...headers },
  });
}

async function sessionCookie(key = OPERATOR_KEY): Promise<string> {
  const response = await signIn(key);
  expect(response.status).toBe(303);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

async function panels(headers: Record<string, string>): Promise<Response> {
  return fetch(url('/dashboard/panels'), { headers });
}

describe('who may see the dashboard', () => {
  it('sends a browser without a session to the sign-in form, and refuses the panels and events', async () => {
    const page = await fetch(url('/'), { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    expect((await panels({})).status).toBe(401);
    expect((await fetch(url('/dashboard/events'))).status).toBe(401);
  });

  it('accepts the operator key as Bearer, but not a register key', async () => {
    expect((await panels({ authorization: `Bearer ${OPERATOR_KEY}` })).status).toBe(200);
    expect((await panels({ authorization: `Bearer ${stack.registers[0]!.key}` })).status).toBe(401);
    expect((await panels({ authorization: `Bearer ${OPERATOR_KEY}x` })).status).toBe(401);
  });

  it('signs in with the key in a form body and hands out an HttpOnly, SameSite=Strict session cookie', async () => {
    const response = await signIn(OPERATOR_KEY);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      /^tillgate_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict$/,
    );
    expect(cookie).not.toContain(OPERATOR_KEY);
    const page = await fetch(url('/'), { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('manager');
  });

  it('a wrong key gets the form again with a 401, and the key is never echoed', async () => {
    const response = await signIn('op_wrong_key_attempt');
    expect(response.status).toBe(401);
    const body = await response.text();
    expect(body).toContain('That is not an operator key.');
    expect(body).not.toContain('op_wrong_key_attempt');
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a sign-in or sign-out posted from another site', async () => {
    expect((await signIn(OPERATOR_KEY, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const noFetchMetadata = await fetch(url('/login'), {
      method: 'POST',
      body: new URLSearchParams({ key: OPERATOR_KEY }),
      redirect: 'manual',
      headers: { origin: 'http://evil.example' },
    });
    expect(noFetchMetadata.status).toBe(403);
    const cookie = await sessionCookie();
    const signOut = await fetch(url('/logout'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(signOut.status).toBe(403);
    expect((await panels({ cookie })).status).toBe(200);
  });

  it('sign-out ends the session', async () => {
    const cookie = await sessionCookie();
    const response = await fetch(url('/logout'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await panels({ cookie })).status).toBe(401);
  });

  it('a session ends after dashboard.sessionTtlSec', async () => {
    const cookie = await sessionCookie();
    clock.offsetMs = 3_599_000;
    expect((await panels({ cookie })).status).toBe(200);
    clock.offsetMs = 3_600_000;
    expect((await panels({ cookie })).status).toBe(401);
    clock.offsetMs = 0;
  });

  it('a reload that removes an operator ends their sessions and refuses their key; the others stay', async () => {
    const mine = await sessionCookie(OPERATOR_KEY);
    const theirs = await sessionCookie(OTHER_KEY);
    const config = stack.gateway.config;
    stack.gateway.reload({ ...config, operators: [operators[0]!] });
    try {
      expect((await panels({ cookie: theirs })).status).toBe(401);
      expect((await panels({ authorization: `Bearer ${OTHER_KEY}` })).status).toBe(401);
      expect((await panels({ cookie: mine })).status).toBe(200);
    } finally {
      stack.gateway.reload({ ...config, operators });
    }
  });
});

describe('what the pages carry', () => {
  it('pages have a strict CSP whose nonce is on their inline style and script, and are not cached or framed', async () => {
    const response = await fetch(url('/'), { headers: { authorization: `Bearer ${OPERATOR_KEY}` } });
    const csp = response.headers.get('content-security-policy')!;
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const page = await response.text();
    expect(page).toContain(`<script nonce="${nonce}">`);
    expect(page).toContain(`<style nonce="${nonce}">`);
    expect(page).not.toMatch(/<script(?![^>]*(nonce="|type="application\/json"))/);
    expect(page).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('text that came from a register is escaped, and no key or pay code appears in a page or a panel', async () => {
    const phone = await stack.phone(await stack.account(10_000));
    const code = phone.nextCode(nowSec());
    const hostile = '<img src=x onerror=alert(1)>';
    const reply = await stack.api(0, 'POST', '/v1/payments', {
      body: { amount: 300, currency: 'JPY', orderRef: hostile, payCode: code },
    });
    expect(reply.body.state).toBe('approved');
    const bearer = { authorization: `Bearer ${OPERATOR_KEY}` };
    const fragments = JSON.stringify(((await (await panels(bearer)).json()) as { panels: unknown }).panels);
    const page = await (await fetch(url('/'), { headers: bearer })).text();
    for (const text of [fragments, page]) {
      expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(text).not.toContain(hostile);
      expect(text).not.toContain(code.slice(4, 40));
      expect(text).not.toContain(OPERATOR_KEY);
      for (const register of stack.registers) expect(text).not.toContain(register.key);
      expect(text).not.toContain(stack.storeKey);
    }
    const lane = await (await fetch(url('/lane'))).text();
    for (const register of stack.registers) expect(lane).not.toContain(register.key);
  });

  it('the operator key never reaches the log', async () => {
    await signIn(OPERATOR_KEY);
    await signIn('op_wrong_key_for_the_log');
    const logs = stack.logs.join('');
    expect(logs).toContain('operator signed in');
    expect(logs).not.toContain(OPERATOR_KEY);
    expect(logs).not.toContain('op_wrong_key_for_the_log');
  });

  it('with no operator configured, the dashboard says how to turn it on', async () => {
    const bare = await startStack();
    try {
      const response = await fetch(`${bare.gateway.url}/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('The dashboard is off');
      expect((await fetch(`${bare.gateway.url}/dashboard/panels`)).status).toBe(401);
    } finally {
      await bare.close();
    }
  });
});

describe('the operator event stream', () => {
  it('hears payments on every lane, where a register hears only its own', async () => {
    const operator = await openStream(url('/dashboard/events'), { authorization: `Bearer ${OPERATOR_KEY}` });
    const register = await openStream(url('/v1/events'), {
      authorization: `Bearer ${stack.registers[0]!.key}`,
    });
    try {
      const phone = await stack.phone(await stack.account(10_000));
      const paid: string[] = [];
      for (const lane of [0, 1]) {
        const reply = await stack.api(lane, 'POST', '/v1/payments', {
          body: { amount: 100, currency: 'JPY', orderRef: `sse-${lane}`, payCode: phone.nextCode(nowSec()) },
        });
        paid.push(reply.body.id);
      }
      await expect.poll(() => paid.every((id) => operator.text().includes(id))).toBe(true);
      expect(register.text()).toContain(paid[0]);
      expect(register.text()).not.toContain(paid[1]);
    } finally {
      operator.close();
      register.close();
    }
  });
});

describe('sign-in bounds', () => {
  it('after dashboard.loginFailuresPerMinuteMax wrong keys, even the right key waits a minute', async () => {
    clock.offsetMs = 120_000;
    for (let i = 0; i < 3; i++) expect((await signIn(`op_guess_${i}`)).status).toBe(401);
    const limited = await signIn(OPERATOR_KEY);
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('wait a minute');
    clock.offsetMs = 181_000;
    expect((await signIn(OPERATOR_KEY)).status).toBe(303);
    clock.offsetMs = 0;
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/tillgate_operator_sign_ins_total\{outcome="rate_limited"\} [1-9]/);
    expect(metrics).toMatch(/tillgate_operator_sign_ins_total\{outcome="refused"\} [1-9]/);
  });
});

async function openStream(
  target: string,
  headers: Record<string, string>,
): Promise<{ text(): string; close(): void }> {
  const abort = new AbortController();
  const response = await fetch(target, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  let received = '';
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of response.body!) received += decoder.decode(chunk, { stream: true });
    } catch {
      // aborted
    }
  })();
  return { text: () => received, close: () => abort.abort() };
}
