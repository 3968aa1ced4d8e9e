// A register's event stream (GET /v1/events) read over fetch, for tests: the next event of a type (and matching a
// predicate), everything seen so far, and close.
import type { Json, Stack } from './stack.js';

export interface RegisterEvents {
  /** The next event of `type` whose data passes `match`; earlier events are kept in seen(). */
  next(type: string, match?: (data: Json) => boolean): Promise<Json>;
  seen(): { type: string; data: Json }[];
  close(): void;
}

export async function openRegisterEvents(stack: Stack, register: number): Promise<RegisterEvents> {
  const abort = new AbortController();
  const response = await fetch(`${stack.gateway.url}/v1/events`, {
    headers: { authorization: `Bearer ${stack.registers[register]!.key}` },
    signal: abort.signal,
  });
  if (!response.headers.get('content-type')?.startsWith('text/event-stream'))
    throw new Error(`GET /v1/events answered ${response.status} ${response.headers.get('content-type')}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const seen: { type: string; data: Json }[] = [];
  let buffer = '';
  return {
    async next(type, match = () => true) {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue;
          const parsed = JSON.parse(data);
          seen.push({ type: event, data: parsed });
          if (event === type && match(parsed)) return parsed;
          continue;
        }
        const chunk = await reader.read();
        if (chunk.done) throw new Error('event stream ended');
        buffer += chunk.value;
      }
    },
    seen: () => seen,
    close: () => abort.abort(),
  };
}
