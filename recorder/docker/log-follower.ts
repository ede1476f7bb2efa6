/**
 * Follows one container's logs from a point in time until the stream ends (container stopped)
 * or `stop()` is called. Lines go to the sink as `log` events stamped with the engine's time.
 */
import type Docker from 'dockerode';
import type { Sink } from '../source.js';
import type { Logger } from '../logger.js';
import { LogFramer } from './log-framer.js';
import { nowMicros } from '../../formats/time.js';

export interface LogFollowOptions {
  tty: boolean;
  maxLine: number;
  /** Engine time (µs) to follow from. */
  since: number;
  /** Engine time of the last line recorded per stream of this container, shared by its followers:
   * a new follower skips lines at or before what an earlier one recorded (restart and reconnect
   * dedupe). Per stream, because the engine stamps stdout and stderr independently and their
   * times interleave out of order. */
  cursor: LogCursor;
}

export interface LogCursor { stdout: number; stderr: number }

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
    // What earlier followers recorded; this follower's own lines are never compared with each
    // other (two lines may share a microsecond).
    const floor: LogCursor = { ...this.#cursor };
    const framer = new LogFramer({ tty: opts.tty, maxLine: opts.maxLine }, (l) => {
      const t = l.engineTime ?? nowMicros();
      if (l.engineTime !== undefined && t <= floor[l.stream]) return;
      if (t > this.#cursor[l.stream]) this.#cursor[l.stream] = t;
      this.lines++;
      sink.emit({ kind: 'log', source: 'docker', container: this.id, time: t, stream: l.stream, line: l.line, engineTime: l.engineTime, truncated: l.truncated });
    });
    try {
      const stream = (await docker.getContainer(this.id).logs({
        follow: true, stdout: true, stderr: true, timestamps: true, since, abortSignal: this.#abort.signal,
      })) as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (c: Buffer) => framer.push(c));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      });
    } catch (err) {
      if (!this.#abort.signal.aborted) log.warn(`logs of ${this.id.slice(0, 12)}: ${(err as Error).message}`);
    } finally {
      framer.end();
    }
  }
}
