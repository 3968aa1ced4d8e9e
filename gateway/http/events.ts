// Server-sent events for registers (CONTRACT §2 `GET /v1/events`): each register hears its own lane's
// `payment`, `scan` and `scanner` events and the store's `mode`. Bounded: clients per register, and a client
// that does not read its stream is dropped rather than buffered without end.
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { GatewayError } from '../errors.js';
import type { Register } from './auth.js';

export type LaneEventType = 'payment' | 'scan' | 'scanner' | 'mode';

export interface LaneEvent {
  /** null: for every lane (the store's mode). */
  laneId: string | null;
  type: LaneEventType;
  data: unknown;
}

export class EventHub extends EventEmitter<{ event: [LaneEvent] }> {
  readonly #durable: (() => Promise<void>) | undefined;

  /**
   * `durable`: settles once what the event reports is on disk (gateway/db/commit-group.ts); an event is heard
   * only then, in the order published, and never when the write behind it was lost.
   */
  constructor(durable?: () => Promise<void>) {
    super();
    this.setMaxListeners(0);
    this.#durable = durable;
  }

  publish(event: LaneEvent): void {
    if (this.#durable === undefined) {
      this.emit('event', event);
      return;
    }
    this.#durable().then(
      () => this.emit('event', event),
      () => undefined,
    );
  }
}

const HEARTBEAT_MS = 15_000;
/** Bytes a slow client may leave unread before it is disconnected. */
const BACKLOG_BYTES_MAX = 1_048_576;

export class SseClients {
  readonly #hub: EventHub;
  readonly #perRegisterMax: number;
  readonly #count = new Map<string, number>();
  readonly #open = new Set<Response>();

  constructor(hub: EventHub, perRegisterMax: number) {
    this.#hub = hub;
    this.#perRegisterMax = perRegisterMax;
  }

  /** A register hears its lane; a subscriber with laneId null (an operator's dashboard) hears every lane. */
  serve(req: Request, res: Response, register: Register | { id: string; laneId: null }): void {
    const count = this.#count.get(register.id) ?? 0;
    if (count >= this.#perRegisterMax) {
      throw new GatewayError(
        'rate_limited',
        `at most ${this.#perRegisterMax} event streams per register or operator`,
      );
    }
    this.#count.set(register.id, count + 1);
    this.#open.add(res);
    res.status(200).set({
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.write(': tillgate events\n\n');
    const onEvent = (event: LaneEvent): void => {
      if (event.laneId !== null && register.laneId !== null && event.laneId !== register.laneId) return;
      if (res.writableLength > BACKLOG_BYTES_MAX) {
        res.destroy();
        return;
      }
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    this.#hub.on('event', onEvent);
    const close = (): void => {
      clearInterval(heartbeat);
      this.#hub.off('event', onEvent);
      this.#open.delete(res);
      this.#count.set(register.id, (this.#count.get(register.id) ?? 1) - 1);
    };
    req.on('close', close);
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const res of this.#open) res.end();
  }
}
