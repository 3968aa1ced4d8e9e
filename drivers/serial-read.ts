// serialport's native binding with a read that does not go through libuv's thread pool. The binding reads a
// non-blocking port on a pool thread (fs.read), and when there is nothing yet, waits for its poller (epoll on the
// event loop) and reads on a pool thread again: each scan's bytes waited for a pool thread to wake, which on a busy
// machine took from a tenth of a millisecond to several (bench/scan-path.ts). Here the poller's 'readable' is
// followed by one non-blocking read on the event loop itself. Ports without a poller and a file descriptor
// (Windows, MockBinding) keep their own read.
import { readSync } from 'node:fs';
import type { SerialBinding } from './serial.js';

type PortBinding = Awaited<ReturnType<SerialBinding['open']>>;
type ReadResult = Awaited<ReturnType<PortBinding['read']>>;

/** What a Unix port binding of @serialport/bindings-cpp has (its declared fields `fd` and `poller`). */
interface UnixPort {
  readonly isOpen: boolean;
  fd: number | null;
  poller: { once(event: 'readable', callback: (error: Error | null) => void): unknown };
}

/** Codes after which a non-blocking read is tried again once the port is readable (as the binding does). */
const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
/** Codes that mean the device went away (the binding's list): the stream reports a disconnect. */
const DISCONNECT_CODES = new Set(['EBADF', 'ENXIO', 'UNKNOWN']);

export function withEventLoopRead(binding: SerialBinding): SerialBinding {
  return {
    list: () => binding.list(),
    async open(options) {
      const port = await binding.open(options);
      if (isUnixPort(port)) {
        const unix = port;
        port.read = (buffer, offset, length) => readWhenReadable(unix, buffer, offset, length);
      }
      return port;
    },
  };
}

function isUnixPort(port: PortBinding): port is PortBinding & UnixPort {
  const candidate = port as Partial<UnixPort>;
  return typeof candidate.fd === 'number' && typeof candidate.poller?.once === 'function';
}

async function readWhenReadable(
  port: UnixPort,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<ReadResult> {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw canceled();
    let bytesRead: number;
    try {
      // The binding opens the port O_NONBLOCK: this returns at once, with bytes or EAGAIN.
      bytesRead = readSync(port.fd, buffer, offset, length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!RETRY_CODES.has(code)) {
        if (DISCONNECT_CODES.has(code) || (error as NodeJS.ErrnoException).errno === -1)
          Object.assign(error as object, { disconnect: true });
        throw error;
      }
      bytesRead = 0;
    }
    if (bytesRead > 0) return { bytesRead, buffer };
    await readable(port);
  }
}

/** Resolves when the poller says the port is readable; rejects with its error (cancelled when the port closes). */
function readable(port: UnixPort): Promise<void> {
  return new Promise((resolve, reject) => {
    port.poller.once('readable', (error) => (error ? reject(error) : resolve()));
  });
}

/** The error the stream takes for a read ended by closing the port (not a disconnect). */
function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}
