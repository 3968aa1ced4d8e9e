// Serial framing: serialport's own DelimiterParser (suffix CR / LF / CRLF) or InterByteTimeoutParser
// (no suffix: a pause ends the scan), each given the byte cap it lacks. An oversize frame is dropped
// whole, head and tail, and reported as one 'overflow'; an unfinished frame at close is never emitted.
import type { Transform, TransformCallback } from 'node:stream';
import { DelimiterParser } from '@serialport/parser-delimiter';
import { InterByteTimeoutParser } from '@serialport/parser-inter-byte-timeout';
import type { AimPrefixMode } from './aim.js';
import { type DecoderEvent, scanFromFrame } from './decoded-scan.js';

export type SerialSuffix = 'cr' | 'lf' | 'crlf' | 'none';

export interface SerialFramerOptions {
  suffix: SerialSuffix;
  /** Silence that ends a frame when there is no suffix. */
  interByteTimeoutMs: number;
  /** Bound on one frame's bytes (suffix excluded); a longer frame is dropped whole. */
  maxScanBytes: number;
}

/** A Transform of raw serial bytes into frames (suffix removed); emits 'overflow' for dropped frames. */
export interface SerialFramer extends Transform {
  /** Bytes of an unfinished frame, 0 when idle. */
  readonly pendingBytes: number;
  /** Ends the current frame as if the line went quiet (no-suffix mode only; a no-op otherwise). */
  endFrame(): void;
}

const DELIMITERS: Record<Exclude<SerialSuffix, 'none'>, Buffer> = {
  cr: Buffer.from('\r'),
  lf: Buffer.from('\n'),
  crlf: Buffer.from('\r\n'),
};

class BoundedDelimiterParser extends DelimiterParser implements SerialFramer {
  readonly #maxBufferedBytes: number;
  #discarding = false;

  constructor(delimiter: Buffer, maxScanBytes: number) {
    super({ delimiter });
    // A split multi-byte delimiter may sit in the buffer on top of a full-size frame.
    this.#maxBufferedBytes = maxScanBytes + delimiter.length - 1;
  }

  get pendingBytes(): number {
    return this.buffer.length;
  }

  endFrame(): void {}

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, (error) => {
      if (this.buffer.length > this.#maxBufferedBytes) {
        this.buffer.fill(0);
        this.buffer = Buffer.alloc(0);
        this.#discarding = true; // the tail, up to the next delimiter, belongs to the same oversize frame
      }
      callback(error);
    });
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null || !Buffer.isBuffer(chunk)) return super.push(chunk, encoding);
    if (this.#discarding || chunk.length > this.#maxBufferedBytes) {
      this.#discarding = false;
      chunk.fill(0);
      this.emit('overflow');
      return true;
    }
    return super.push(chunk, encoding);
  }

  override _flush(callback: TransformCallback): void {
    this.buffer = Buffer.alloc(0);
    callback();
  }
}

class BoundedInterByteTimeoutParser extends InterByteTimeoutParser implements SerialFramer {
  #discarding = false;

  constructor(interval: number, maxScanBytes: number) {
    // One byte over the cap makes the parser emit early, which is how an oversize frame is recognised.
    super({ interval, maxBufferSize: maxScanBytes + 1 });
  }

  get pendingBytes(): number {
    return this.currentPacket.length;
  }

  endFrame(): void {
    this.emitPacket();
  }

  override emitPacket(): void {
    const full = this.currentPacket.length >= this.maxBufferSize;
    if (!full && !this.#discarding) {
      super.emitPacket();
      return;
    }
    if (this.intervalID) clearTimeout(this.intervalID);
    this.currentPacket = [];
    if (full) {
      this.#discarding = true; // drop the rest too, until the line goes quiet
    } else {
      this.#discarding = false;
      this.emit('overflow');
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.intervalID) clearTimeout(this.intervalID);
    this.currentPacket = [];
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.intervalID) clearTimeout(this.intervalID);
    this.currentPacket = [];
    callback(error);
  }
}

export function createSerialFramer(options: SerialFramerOptions): SerialFramer {
  if (options.suffix === 'none') {
    return new BoundedInterByteTimeoutParser(options.interByteTimeoutMs, options.maxScanBytes);
  }
  return new BoundedDelimiterParser(DELIMITERS[options.suffix], options.maxScanBytes);
}

/**
 * Turns one frame into a decoder event: tolerates the other half of a CRLF left by a device set to
 * CRLF on a CR or LF lane, splits an AIM prefix, decodes the text. Undefined for an empty frame.
 */
export function serialFrameEvent(
  frame: Buffer,
  options: { suffix: SerialSuffix; aimPrefix: AimPrefixMode },
): DecoderEvent | undefined {
  let body = frame;
  if (options.suffix === 'cr' && body[0] === 0x0a) body = body.subarray(1);
  if (options.suffix === 'lf' && body[body.length - 1] === 0x0d) body = body.subarray(0, -1);
  if (body.length === 0) return undefined;
  const suffix = options.suffix === 'none' ? Buffer.alloc(0) : DELIMITERS[options.suffix];
  return scanFromFrame(Buffer.concat([body, suffix]), body, { aimPrefix: options.aimPrefix });
}
