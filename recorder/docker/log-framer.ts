/**
 * Turns a container's log stream (Engine API `logs?follow&timestamps`) into lines.
 *
 * Non-TTY containers: the stream is framed (8-byte header: stream id, 3 zero bytes, big-endian
 * length). We parse frames ourselves instead of using docker-modem's demuxStream because we need
 * the frame boundaries: the engine writes one log message per frame, and a message without a
 * trailing newline is a partial one (the log driver splits long lines at 16 KiB) whose rest
 * follows in the next frames of that stream. TTY containers: one raw stream, lines split on \n.
 *
 * Every message starts with the engine's RFC 3339 nano timestamp and a space. Lines longer than
 * `maxLine` bytes are cut there; the rest is counted (not buffered) and reported as `truncated`.
 *
 * Lines are views of the chunks pushed, not copies: the caller hands over chunks it never reuses
 * (log-follower.ts), and the pipeline encodes a line as soon as it is emitted. Frames and
 * messages are read as offsets into the chunk: the usual line costs one view, its own.
 */
import { StampParser } from '../../formats/time.js';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: Buffer;
  engineTime?: number;
  truncated?: number;
}

interface Partial { parts: Buffer[]; size: number; total: number; engineTime?: number }
const EMPTY = Buffer.alloc(0);

export class LogFramer {
  readonly #tty: boolean;
  readonly #maxLine: number;
  readonly #onLine: (l: LogLine) => void;
  readonly #stamps = new StampParser();
  #buf: Buffer = EMPTY;
  readonly #partial: Record<'stdout' | 'stderr', Partial | undefined> = { stdout: undefined, stderr: undefined };

  constructor(opts: { tty: boolean; maxLine: number }, onLine: (l: LogLine) => void) {
    this.#tty = opts.tty;
    this.#maxLine = opts.maxLine;
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    if (this.#tty) return this.#pushRaw(chunk);
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    let off = 0;
    while (this.#buf.length - off >= 8) {
      const kind = this.#buf[off];
      const size = this.#buf.readUInt32BE(off + 4);
      if (this.#buf.length - off - 8 < size) break;
      this.#message(kind === 2 ? 'stderr' : 'stdout', this.#buf, off + 8, off + 8 + size);
      off += 8 + size;
    }
    this.#buf = off === this.#buf.length ? EMPTY : this.#buf.subarray(off);
  }

  #pushRaw(chunk: Buffer): void {
    // TTY: no framing; every \n ends a message that began with a timestamp.
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#message('stdout', chunk, start, nl + 1);
      start = nl + 1;
    }
    if (start < chunk.length) this.#message('stdout', chunk, start, chunk.length);
  }

  /** Where the last #stamp's message text starts: after its timestamp and space, if it had one. */
  #textAt = 0;

  /** The engine timestamp at the start of message b[from, to), if it has one (sets #textAt). */
  #stamp(b: Buffer, from: number, to: number): number | undefined {
    // The space within the first 40 bytes of this message only (indexOf would search the whole read).
    let sp = -1;
    for (let i = from + 1, lim = Math.min(to, from + 40); i < lim; i++) {
      if (b[i] === 32) { sp = i; break; }
    }
    const ts = sp > 0 ? this.#stamps.parse(b, from, sp) : undefined;
    this.#textAt = ts === undefined ? from : sp + 1;
    return ts;
  }

  /** One engine message b[from, to): "<timestamp> <text>[\n]". */
  #message(stream: 'stdout' | 'stderr', b: Buffer, from: number, to: number): void {
    let p = this.#partial[stream];
    let at = from;
    if (!p || (this.#tty && p.total === 0)) {
      const ts = this.#stamp(b, from, to);
      at = this.#textAt;
      // The usual message: a whole line in one frame, within the bound.
      const n = to - at;
      if (!p && n > 0 && b[to - 1] === 10 && n - 1 <= this.#maxLine && !(this.#tty && n > 1 && b[to - 2] === 13)) {
        this.#onLine({ stream, line: b.subarray(at, to - 1), engineTime: ts });
        return;
      }
      p = { parts: [], size: 0, total: 0, engineTime: ts };
      this.#partial[stream] = p;
    } else if (!this.#tty) {
      // Continuation frames of a partial message carry their own timestamp: drop it.
      this.#stamp(b, from, to);
      at = this.#textAt;
    }
    const ends = to > at && b[to - 1] === 10;
    const end = ends ? to - 1 : to;
    p.total += end - at;
    const room = this.#maxLine - p.size;
    if (room > 0) {
      const take = b.subarray(at, Math.min(end, at + room));
      p.parts.push(take);
      p.size += take.length;
    }
    if (ends) this.#emit(stream);
  }

  #emit(stream: 'stdout' | 'stderr'): void {
    const p = this.#partial[stream];
    if (!p) return;
    this.#partial[stream] = undefined;
    let line = p.parts.length === 1 ? p.parts[0]! : Buffer.concat(p.parts, p.size);
    if (line.length > 0 && line[line.length - 1] === 13 && this.#tty) line = line.subarray(0, line.length - 1);
    const out: LogLine = { stream, line, engineTime: p.engineTime };
    if (p.total > p.size) out.truncated = p.total;
    this.#onLine(out);
  }

  /** End of stream: whatever partial line is left is still a line. */
  end(): void {
    this.#emit('stdout');
    this.#emit('stderr');
  }
}
