// serialport's native binding with a read that does not go through libuv's thread pool. The binding reads a
// non-blocking port on a pool thread (fs.read), and when there is nothing yet, waits for its poller (epoll on the
// event loop) and reads on a pool thread again: each scan's bytes waited for a pool thread to wake, which on a busy
// machine took from a tenth of a millisecond to several (bench/scan-path.ts). Here the poller's 'readable' is
// followed by one non-blocking read on the event loop itself, in the poller's callback. Ports without a poller and
// a file descriptor (Windows, MockBinding) keep their own read.
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

/** The non-blocking read system call (fs.readSync); tests pass one that also records what each call returned. */
export type ReadFd = (fd: number, buffer: Buffer, offset: number, length: number, position: null) => number;

/** Codes after which a non-blocking read is tried again once the port is readable (as the binding does). */
const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
/** Codes that mean the device went away (the binding's list): the stream reports a disconnect. */
const DISCONNECT_CODES = new Set(['EBADF', 'ENXIO', 'UNKNOWN']);

export function withEventLoopRead(binding: SerialBinding, readFd: ReadFd = readSync): SerialBinding {
  return {
    list: () => binding.list(),
    async open(options) {
      const port = await binding.open(options);
      if (isUnixPort(port)) port.read = eventLoopReader(port, readFd);
      return port;
    },
  };
}

function isUnixPort(port: PortBinding): port is PortBinding & UnixPort {
  const candidate = port as Partial<UnixPort>;
  return typeof candidate.fd === 'number' && typeof candidate.poller?.once === 'function';
}

/**
 * A port's read. A read that did not fill its buffer took all the tty had, so the next one waits for the poller
 * first (level-triggered: bytes that came in meanwhile make it fire at once) rather than trying and failing with
 * EAGAIN: a system call and a thrown error less per chunk, which from a 9600-baud scanner is every byte or two, and
 * one less between the two chunks of a split frame. A read that filled its buffer may have left bytes: the next
 * one tries at once.
 */
function eventLoopReader(port: UnixPort, readFd: ReadFd): PortBinding['read'] {
  let drained = false; // the last read left nothing behind (a fresh port may have bytes waiting)
  return (buffer, offset, length) => {
    const done = (bytesRead: number): ReadResult => {
      drained = bytesRead < length;
      return { bytesRead, buffer };
    };
    if (!drained) {
      try {
        const bytesRead = readNow(port, readFd, buffer, offset, length);
        if (bytesRead > 0) return Promise.resolve(done(bytesRead));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      const wait = (): void => {
        port.poller.once('readable', (error) => {
          if (error) {
            reject(error); // cancelled when the port closes
            return;
          }
          try {
            const bytesRead = readNow(port, readFd, buffer, offset, length);
            if (bytesRead > 0) resolve(done(bytesRead));
            else wait(); // woken with nothing to read after all
          } catch (readError) {
            reject(readError);
          }
        });
      };
      wait();
    });
  };
}

/** One non-blocking read: the bytes read, 0 when there were none yet; throws what the stream must be told. */
function readNow(port: UnixPort, readFd: ReadFd, buffer: Buffer, offset: number, length: number): number {
  if (!port.isOpen || port.fd === null) throw canceled();
  try {
    // The binding opens the port O_NONBLOCK: this returns at once, with bytes or EAGAIN.
    return readFd(port.fd, buffer, offset, length, null);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (RETRY_CODES.has(code)) return 0;
    if (DISCONNECT_CODES.has(code) || (error as NodeJS.ErrnoException).errno === -1)
      Object.assign(error as object, { disconnect: true });
    throw error;
  }
}

/** The error the stream takes for a read ended by closing the port (not a disconnect). */
function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}
