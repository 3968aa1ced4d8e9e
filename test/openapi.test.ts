// The OpenAPI 3.1 document of the register API: generated from the zod schemas, served at /openapi.json, naming
// exactly the routes the register router serves (both ways), every reference resolving, and live answers of a
// running gateway matching the response schemas it was generated from.
import type { Router } from 'express';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegisterApp } from '../gateway/http/app.js';
import { IdempotencyStore } from '../gateway/http/idempotency.js';
import { OPERATIONS, openApiDocument } from '../gateway/http/openapi.js';
import {
  ErrorSchema,
  PaymentSchema,
  RefundResultSchema,
  ScanNoticeSchema,
  StatusSchema,
} from '../gateway/http/schemas.js';
import { type Json, nowSec, type Stack, startStack } from './support/stack.js';

let stack: Stack;
let document: Json;

beforeAll(async () => {
  stack = await startStack({ config: { payments: { orderRefMaxLength: 40 } } });
  document = await (await fetch(`${stack.gateway.url}/openapi.json`)).json();
});

afterAll(async () => {
  await stack?.close();
});

/** "METHOD /v1/path/{param}" for every route the router serves. */
function servedRoutes(router: Router, prefix: string): string[] {
  const routes: string[] = [];
  for (const layer of router.stack as unknown as {
    route?: { path: string; methods: Record<string, boolean> };
  }[]) {
    if (layer.route === undefined) continue;
    const path = prefix + layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${path}`);
  }
  return routes.sort();
}

function documentedRoutes(doc: Json, under: string): string[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .filter(([path]) => path.startsWith(under))
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe('the document and the router', () => {
  it('documents every route of the register router, and nothing it does not serve', () => {
    const g = stack.gateway;
    const { app, registerRouter } = createRegisterApp({
      service: g.service,
      idempotency: new IdempotencyStore(g.db),
      hub: g.hub,
      config: g.config,
      status: g.status,
      ready: () => true,
      metrics: new Registry(),
      logger: pino({ level: 'silent' }),
    });
    const served = servedRoutes(registerRouter, '/v1');
    expect(served).toEqual([
      'GET /v1/events',
      'GET /v1/payments/{id}',
      'GET /v1/status',
      'POST /v1/payments',
      'POST /v1/payments/{id}/cancel',
      'POST /v1/payments/{id}/refunds',
    ]);
    expect(documentedRoutes(document, '/v1/')).toEqual(served);

    // The app's own routes outside /v1 (health, metrics, this document) — the dashboard's are its own router.
    const publicServed = servedRoutes(app.router as unknown as Router, '');
    expect(publicServed).toEqual(['GET /healthz', 'GET /metrics', 'GET /openapi.json', 'GET /readyz']);
    const documented = documentedRoutes(document, '/');
    expect(documented.filter((route) => !route.includes(' /v1/'))).toEqual(publicServed);
  });

  it('the public routes it documents answer without a key; every /v1 route needs one', async () => {
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      for (const operation of Object.values(item)) {
        if (path.startsWith('/v1/')) expect(operation.security).toBeUndefined();
        else {
          expect(operation.security).toEqual([]);
          expect((await fetch(stack.gateway.url + path)).status).toBe(200);
        }
      }
    }
    expect(document.security).toEqual([{ registerKey: [] }]);
  });

  it('is OpenAPI 3.1 with JSON Schema 2020-12, and every $ref resolves to a component', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = /#\/components\/schemas\/(\w+)/.exec(ref)?.[1];
      expect(name, ref).toBeDefined();
      expect(document.components.schemas[name!], ref).toBeDefined();
    }
    const operationIds = OPERATIONS.map((o) => document.paths[o.path][o.method].operationId);
    expect(new Set(operationIds).size).toBe(OPERATIONS.length);
  });

  it('is generated from the schemas the gateway parses with, bounds of its config included', () => {
    const create = document.components.schemas.CreatePayment;
    expect(create.required).toEqual(['amount', 'currency', 'orderRef']);
    expect(create.additionalProperties).toBe(false);
    expect(create.properties.orderRef.maxLength).toBe(40);
    expect(create.properties.amount).toMatchObject({ type: 'integer', exclusiveMinimum: 0 });
    expect(document.components.schemas.Payment.properties.state.enum).toContain('partially_refunded');
    expect(document.components.schemas.Payment.properties.decision.properties.reason.enum).toContain(
      'insufficient_funds',
    );
    expect(document).toEqual(
      JSON.parse(
        JSON.stringify(
          openApiDocument({ bounds: stack.gateway.config.payments, version: document.info.version }),
        ),
      ),
    );
  });
});

describe('live answers match the response schemas', () => {
  it('payments, refunds, status, errors and events', async () => {
    const events = new AbortController();
    const stream = await fetch(`${stack.gateway.url}/v1/events`, {
      headers: { authorization: `Bearer ${stack.registers[0]!.key}` },
      signal: events.signal,
    });
    let received = '';
    void (async () => {
      try {
        for await (const chunk of stream.body!) received += Buffer.from(chunk).toString('utf8');
      } catch {
        // aborted
      }
    })();

    const phone = await stack.phone(await stack.account(10_000));
    const waiting = await stack.api(0, 'POST', '/v1/payments', {
      body: {
        amount: 1_000,
        currency: 'JPY',
        orderRef: 'oa-1',
        basket: [{ category: 'food', amount: 1_000 }],
      },
    });
    expect(PaymentSchema.parse(waiting.body).state).toBe('awaiting_scan');
    await stack.scanner('lane-1').scan(phone.nextCode(nowSec()));
    const decided = await stack.api(0, 'GET', `/v1/payments/${waiting.body.id}?waitMs=5000`);
    const approved = PaymentSchema.parse(
      decided.body.state === 'approved'
        ? decided.body
        : (await stack.api(0, 'GET', `/v1/payments/${waiting.body.id}?waitMs=5000`)).body,
    );
    expect(approved.state).toBe('approved');
    const refund = await stack.api(0, 'POST', `/v1/payments/${approved.id}/refunds`, {
      body: { amount: 400 },
    });
    expect(refund.status).toBe(201);
    expect(RefundResultSchema.parse(refund.body).payment.state).toBe('partially_refunded');

    const status = StatusSchema.parse((await stack.api(0, 'GET', '/v1/status')).body);
    expect(status.register).toEqual({ id: 'register-1', laneId: 'lane-1' });

    for (const failure of [
      await stack.api(0, 'POST', '/v1/payments', { body: { amount: -1, currency: 'JPY', orderRef: 'x' } }),
      await stack.api(0, 'GET', '/v1/status', { key: 'rk_nobody' }),
      await stack.api(0, 'GET', '/v1/payments/p_none'),
    ]) {
      expect(ErrorSchema.safeParse(failure.body).success, JSON.stringify(failure.body)).toBe(true);
    }

    await expect.poll(() => received.includes('event: scan')).toBe(true);
    events.abort();
    const frames = received.split('\n\n').filter((frame) => frame.startsWith('event: '));
    for (const frame of frames) {
      const [eventLine, dataLine] = frame.split('\n');
      const data = JSON.parse(dataLine!.slice('data: '.length));
      const type = eventLine!.slice('event: '.length);
      if (type === 'payment') PaymentSchema.parse(data);
      if (type === 'scan') ScanNoticeSchema.parse(data);
    }
    expect(frames.filter((f) => f.startsWith('event: payment')).length).toBeGreaterThanOrEqual(3);
  });
});
