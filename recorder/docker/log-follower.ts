/**
 * Follows one container's logs from a point in time until the stream ends (container stopped)
 * or `stop()` is called. Lines go to the sink as `log` events stamped with the engine's time.
 */
import type Docker from 'dockerode';
import { connect } from 'node:net';
import type { Sink } from '../source.js';
import { HttpResponseDecoder } from './http-response.js';
import type { Logger } from '../logger.js';
import { LogFramer } from './log-framer.js';
import { Pacer, type Pace } from '../paced-reader.js';
import { nowMicros } from '../../formats/time.js';

export interface LogFollowOptions {
  tty: boolean;
  /** Read through dockerode even on a unix socket (tests of that path; tcp and TLS always use it). */
  viaDockerode?: boolean;
  maxLine: number;
  /** Engine time (µs) to follow from. */
  since: number;
  /** Where the lines recorded so far end, per stream of this container, shared by its followers:
   * a new follower skips what an earlier one recorded (restart and reconnect dedupe). Per stream,
   * because the engine stamps stdout and stderr independently and their times interleave. */
  cursor: LogCursor;
}

/** The end of a stream's recorded lines: the engine time (µs) of the last one, and how many lines
 * carry exactly that time. The engine stamps lines in nanoseconds, so at microseconds a burst
 * shares stamps: skipping "everything at or before the last time" would lose the rest of a burst
 * cut by a crash, and skipping only "before" would record its head twice. */
export interface StreamMark { time: number; count: number }
export interface LogCursor { stdout: StreamMark; stderr: StreamMark }

export const emptyLogCursor = (): LogCursor => ({ stdout: { time: 0, count: 0 }, stderr: { time: 0, count: 0 } });

/**
 * Decides which lines a new follower records, given what earlier followers recorded (`cursor`),
 * and moves the cursor past every line it admits. Skipped: lines stamped before the cursor's end,
 * and at its last stamp as many lines as it holds (the engine serves a stream in its own order, so
 * those are the first ones at that stamp).
 */
export class ResumeGate {
  readonly #floor: Record<LogStream, number>;
  readonly #skip: Record<LogStream, number>;

  constructor(readonly cursor: LogCursor) {
    this.#floor = { stdout: cursor.stdout.time, stderr: cursor.stderr.time };
    this.#skip = { stdout: cursor.stdout.count, stderr: cursor.stderr.count };
  }

  admit(stream: LogStream, t: number): boolean {
    if (t < this.#floor[stream]) return false;
    if (t === this.#floor[stream] && this.#skip[stream] > 0) {
      this.#skip[stream]--;
      return false;
    }
    const mark = this.cursor[stream];
    if (t > mark.time) {
      mark.time = t;
      mark.count = 1;
    } else if (t === mark.time) {
      mark.count++;
    }
    return true;
  }
}

type LogStream = keyof LogCursor;

export class LogFollower {
  readonly #abort = new AbortController();
  readonly #cursor: LogCursor;
  lines = 0;
  readonly done: Promise<void>;

  constructor(docker: Docker, readonly id: string, opts: LogFollowOptions, sink: Sink, log: Logger) {
    this.#cursor = opts.cursor;
    this.done = this.#run(docker, opts, sink, log);
  }

  stop(): void {
    this.#abort.abort();
  }

  async #run(docker: Docker, opts: LogFollowOptions, sink: Sink, log: Logger): Promise<void> {
    const since = (opts.since / 1e6).toFixed(6);
    const gate = new ResumeGate(this.#cursor);
    const framer = new LogFramer({ tty: opts.tty, maxLine: opts.maxLine }, (l) => {
      const t = l.engineTime ?? nowMicros();
      if (l.engineTime !== undefined && !gate.admit(l.stream, t)) return;
      this.lines++;
      sink.emit({ kind: 'log', source: 'docker', container: this.id, time: t, stream: l.stream, line: l.line, engineTime: l.engineTime, truncated: l.truncated });
    });
    try {
      const modem = docker.modem as unknown as EngineModem;
      if (modem.socketPath && !opts.viaDockerode) {
        const socket = await modem.getSocketPath();
        const path = `${modem.version ? `/${modem.version}` : ''}/containers/${this.id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=${since}`;
        await followRaw(socket, path, modem.headers ?? {}, this.#abort.signal, (b) => framer.push(b));
      } else {
        const stream = (await docker.getContainer(this.id).logs({
          follow: true, stdout: true, stderr: true, timestamps: true, since, abortSignal: this.#abort.signal,
        })) as NodeJS.ReadableStream;
        await new Promise<void>((resolve, reject) => {
          // An own copy of each read: the framer keeps views of what it is given.
          stream.on('data', (c: Buffer) => framer.push(Buffer.from(c)));
          stream.on('end', resolve);
          stream.on('close', resolve);
          stream.on('error', reject);
        });
      }
    } catch (err) {
      if (!this.#abort.signal.aborted) log.warn(`logs of ${this.id.slice(0, 12)}: ${(err as Error).message}`);
    } finally {
      framer.end();
    }
  }
}

/** What the follower uses of docker-modem's connection settings. */
interface EngineModem {
  socketPath?: unknown;
  getSocketPath(): Promise<string>;
  version?: string;
  headers?: Record<string, string>;
}

/**
 * An engine socket holds only a few hundred of the engine's one-line writes (each is a buffer of
 * its own to the kernel): about 37 KiB of these lines on this machine. A 2 ms pause lets 100-300
 * lines gather without filling it at 40,000 lines/s; a read of 32 KiB or more (or of 3/4 of the
 * most it held so far, where it holds less) means it was nearly full, and the next read comes
 * without pause. 100,000 lines read raw off the socket, same session: 22,831 reads and 299 CPU-ms
 * unpaced, 683 reads and 89 CPU-ms paced, in the same wall time; a 5 ms pause slowed the storm by
 * 15% (the engine's writes waited on the full socket).
 */
const SOCKET_PACE: Pace = { smallRead: 32 * 1024, ms: 2 };
const READ_BYTES = 64 * 1024;

/**
 * GET `path` on the engine's unix socket and hand the body to `body`, one buffer per socket read
 * (http-response.ts says why). The socket is read paced (above), into one buffer reused for every
 * read (the decoder copies each body out of it); with it, a pause stops reading at once,
 * where a paused stream reads on until its own buffer is full. Resolves when the stream ends, is
 * aborted, or the connection drops (the engine went away: the source reconnects and follows
 * again); rejects on an error status or a response it cannot read.
 */
function followRaw(socketPath: string, path: string, headers: Record<string, string>, signal: AbortSignal, body: (b: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve();
    let status = 0;
    const errorBody: Buffer[] = [];
    let failed: Error | undefined;
    const dec = new HttpResponseDecoder({
      head: (h) => { status = h.status; },
      body: (b) => {
        if (status === 200) body(b);
        else if (errorBody.length < 16) errorBody.push(b);
      },
      end: () => sock.end(),
    }, { reusedReads: true });
    const pacer = new Pacer(SOCKET_PACE);
    const resume = (): void => void (sock.destroyed || sock.resume());
    const sock = connect({
      path: socketPath,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BYTES),
        callback: (n: number, buf: Uint8Array): boolean => {
          try {
            dec.push(Buffer.from(buf.buffer, buf.byteOffset, n));
          } catch (err) {
            failed = err as Error;
            sock.destroy();
            return false;
          }
          return !pacer.pausesAfter(n, resume);
        },
      },
    });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.once('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: dashcam\r\n${extra}\r\n`));
    sock.on('error', (err) => { failed ??= err; });
    const onAbort = (): void => void sock.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return resolve();
      if (failed && status === 0) return reject(failed);
      if (status !== 200 && status !== 0) return reject(new Error(`(HTTP code ${status}) ${engineMessage(Buffer.concat(errorBody))}`));
      if (failed) return reject(failed);
      resolve();
    });
  });
}

/** The engine's error text: `{"message": "..."}`, else the body itself. */
function engineMessage(b: Buffer): string {
  const text = b.toString('utf8').slice(0, 500);
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: the text as it is
  }
  return text.trim();
}
