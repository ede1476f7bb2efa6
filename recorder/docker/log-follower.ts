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
  /** Engine time of the last line recorded for this container, shared by its followers: lines at or
   * before it are skipped (restart and reconnect dedupe). */
  cursor: { last: number };
}

export class LogFollower {
  readonly #abort = new AbortController();
  readonly #cursor: { last: number };
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
    const framer = new LogFramer({ tty: opts.tty, maxLine: opts.maxLine }, (l) => {
      const t = l.engineTime ?? nowMicros();
      if (l.engineTime !== undefined && t <= this.#cursor.last) return;
      this.#cursor.last = t;
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
