// Register authentication and its brute-force limit: the token bucket alone on a test clock, then the middleware
// on a real loopback server, with the guesser on another loopback address (127.0.0.2) than the honest register.
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayError } from '../errors.js';
import { AuthFailureLimiter, RegisterKeys, registerAuth, registerOf, sha256Hex } from './auth.js';

describe('AuthFailureLimiter', () => {
  const limits = { burst: 3, perMinute: 6, sourcesMax: 100 };

  it('lets a source fail `burst` times, then holds it until a token is earned back', () => {
    let now = 1_000_000;
    const limiter = new AuthFailureLimiter(limits, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSec('a')).toBe(0);
      limiter.failed('a');
    }
    // 6 a minute: one token every 10 s.
    expect(limiter.retryAfterSec('a')).toBe(10);
    expect(limiter.retryAfterSec('b')).toBe(0);
    now += 4_000;
    expect(limiter.retryAfterSec('a')).toBe(6);
    now += 6_000;
    expect(limiter.retryAfterSec('a')).toBe(0);
    limiter.failed('a');
    expect(limiter.retryAfterSec('a')).toBe(10);
  });

  it('forgets a source once its bucket is full again', () => {
    let now = 0;
    const limiter = new AuthFailureLimiter(limits, () => now);
    limiter.failed('a');
    expect(limiter.size).toBe(1);
    now += 10_000;
    expect(limiter.retryAfterSec('a')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('remembers at most sourcesMax sources, dropping the least recent failures first', () => {
    const limiter = new AuthFailureLimiter({ ...limits, sourcesMax: 50 }, () => 0);
    for (let i = 0; i < 3; i++) limiter.failed('held');
    for (let i = 0; i < 49; i++) limiter.failed(`other-${i}`);
    expect(limiter.size).toBe(50);
    expect(limiter.retryAfterSec('held')).toBe(10);
    limiter.failed('one-more');
    expect(limiter.size).toBe(50);
    expect(limiter.retryAfterSec('held')).toBe(0);
  });

  it('refuses settings that would hold nobody or everybody', () => {
    expect(() => new AuthFailureLimiter({ burst: 0, perMinute: 1, sourcesMax: 1 })).toThrow();
  });
});

describe('registerAuth on loopback', () => {
  const keyA = 'rk_register_a_key_0123456789';
  const keyB = 'rk_register_b_key_9876543210';
  const registry = new Registry();
  let now = 5_000_000;
  let port = 0;
  let server: ReturnType<express.Express['listen']>;
  let hashed = 0;

  beforeAll(async () => {
    const app = express();
    const registers = [
      { id: 'reg-a', laneId: 'lane-1', keySha256: sha256Hex(keyA) },
      { id: 'reg-b', laneId: 'lane-2', keySha256: sha256Hex(keyB) },
    ];
    const keys = new RegisterKeys(registers);
    const lookup = keys.lookup.bind(keys);
    keys.lookup = (key: string) => {
      hashed += 1;
      return lookup(key);
    };
    const limiter = new AuthFailureLimiter({ burst: 5, perMinute: 60, sourcesMax: 100 }, () => now);
    app.use(registerAuth(keys, { limiter, registry }));
    app.get('/who', (_req, res) => {
      res.json(registerOf(res));
    });
    app.use((error: GatewayError, _req: express.Request, res: express.Response, _n: express.NextFunction) => {
      res
        .status(error.status)
        .json({ error: { code: error.code, message: error.message, ...error.details } });
    });
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => {
    server?.close();
  });

  function call(from: string, key: string | null) {
    return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
        const req = request(
          { host: '127.0.0.1', port, path: '/who', localAddress: from, headers, agent: false },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
  }

  it('after `burst` wrong keys the source gets 429 with Retry-After, without its key being checked', async () => {
    for (let i = 0; i < 4; i++) expect((await call('127.0.0.2', `rk_guess_${i}`)).status).toBe(401);
    expect((await call('127.0.0.2', null)).status).toBe(401);
    const before = hashed;
    const held = await call('127.0.0.2', 'rk_guess_again');
    expect(held.status).toBe(429);
    expect(held.headers['retry-after']).toBe('1');
    expect(JSON.parse(held.body)).toMatchObject({ error: { code: 'rate_limited', retryAfterSec: 1 } });
    expect(held.body).not.toContain('rk_guess');
    // Even the right key waits: the source is held before any key is looked at.
    expect((await call('127.0.0.2', keyA)).status).toBe(429);
    expect(hashed).toBe(before);
  });

  it('a register on another source is unaffected, and the held source may try again once a token is back', async () => {
    expect(JSON.parse((await call('127.0.0.1', keyB)).body)).toEqual({ id: 'reg-b', laneId: 'lane-2' });
    now += 1_000;
    expect((await call('127.0.0.2', keyA)).status).toBe(200);
    expect((await call('127.0.0.2', 'rk_wrong')).status).toBe(401);
    expect((await call('127.0.0.2', 'rk_wrong')).status).toBe(429);
  });

  it('counts refusals by reason, never by key', async () => {
    const text = await registry.metrics();
    expect(text).toContain('tillgate_register_auth_refused_total{reason="wrong_key"} 5');
    expect(text).toContain('tillgate_register_auth_refused_total{reason="missing_key"} 1');
    expect(text).toContain('tillgate_register_auth_refused_total{reason="rate_limited"} 3');
    expect(text).not.toContain('rk_');
  });
});
