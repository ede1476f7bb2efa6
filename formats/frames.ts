/**
 * Framing of the recorder's local query socket: 4-byte big-endian length + msgpack body.
 * Both ends live here so they cannot drift.
 */
import { pack, unpack } from './codec.js';
import { FormatError } from './errors.js';

export const MAX_FRAME = 64 << 20;

export function frame(msg: unknown): Buffer {
  const body = pack(msg);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Incremental decoder: push bytes, get whole messages. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): unknown[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: unknown[] = [];
    let off = 0;
    while (this.#buf.length - off >= 4) {
      const len = this.#buf.readUInt32BE(off);
      if (len > MAX_FRAME) throw new FormatError('DECODE', `query frame of ${len} bytes exceeds the limit`);
      if (this.#buf.length - off - 4 < len) break;
      out.push(unpack(this.#buf.subarray(off + 4, off + 4 + len), 'query frame'));
      off += 4 + len;
    }
    this.#buf = off === this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(off);
    return out;
  }
}

/**
 * Requests are multiplexed by `id` and range reads are pulled chunk by chunk (`open`, then `next`
 * until `done`, or `cancel`), so a reader merging several ranges never deadlocks on one socket and
 * the recorder never buffers more than one chunk per open cursor.
 */
export interface QueryRequest {
  id: number;
  op: 'get' | 'open' | 'next' | 'cancel' | 'command';
  key?: Uint8Array;
  range?: { gte?: Uint8Array; lt?: Uint8Array; reverse?: boolean; limit?: number };
  /** For `command`: a recorder action (status, gc, mark, ...) and its arguments. */
  command?: string;
  args?: Record<string, unknown>;
}
export interface QueryResponse {
  id: number;
  value?: Uint8Array | null;
  entries?: [Uint8Array, Uint8Array][];
  result?: unknown;
  done?: boolean;
  error?: { code: string; message: string };
}

export const SOCKET_NAME = 'dashcam.sock';
