/**
 * The engine's event stream, kept open: reconnect with backoff, resume with `since` from the last
 * event seen, and report every (re)connection with the interval that went unobserved.
 */
import type Docker from 'dockerode';
import type { Logger } from '../logger.js';
import { nowMicros } from '../../formats/time.js';

export interface EngineMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

export interface EngineGap { from: number; to: number; reason: string }

export interface EngineEventHandlers {
  onMessage(m: EngineMessage): void;
  /** Called after each successful (re)connect; `gap` is undefined on a first start with nothing to resume. */
  onConnected(gap: EngineGap | undefined): Promise<void>;
  onDisconnected(why: string): void;
  onMalformed?(line: string): void;
}

const MAX_LINE = 1 << 20;
/**
 * The engine does not deliver events in strict time order (a `docker rm` of ten containers at once
 * can deliver a destroy stamped a little before the previous event), so a reconnect asks back from
 * a margin before the newest event seen and drops what it already delivered by identity.
 */
const RESUME_MARGIN_US = 2_000_000;
const REMEMBER = 4096;

export class EngineEvents {
  #stopped = false;
  #stream: NodeJS.ReadableStream | undefined;
  #last = 0;
  /** Identities of recently delivered events (insertion order = age), for reconnect dedupe. */
  readonly #seen = new Set<string>();
  #wake: (() => void) | undefined;

  constructor(readonly docker: Docker, readonly log: Logger, readonly h: EngineEventHandlers) {}

  start(resumeFrom?: number): void {
    void this.#loop(resumeFrom);
  }

  stop(): void {
    this.#stopped = true;
    (this.#stream as { destroy?: () => void } | undefined)?.destroy?.();
    this.#wake?.();
  }

  async #loop(resumeFrom: number | undefined): Promise<void> {
    let gap: EngineGap | undefined = resumeFrom !== undefined ? { from: resumeFrom, to: 0, reason: 'recorder-down' } : undefined;
    this.#last = resumeFrom ?? nowMicros();
    let failures = 0;
    while (!this.#stopped) {
      try {
        const since = (Math.max(0, this.#last - (this.#seen.size ? RESUME_MARGIN_US : 0)) / 1e6).toFixed(6);
        const stream = await this.docker.getEvents({ since: since as unknown as number });
        this.#stream = stream;
        failures = 0;
        if (gap) gap.to = nowMicros();
        this.log.info(gap ? `engine connected; unobserved since ${new Date(gap.from / 1000).toISOString()} (${gap.reason}), reconciling` : 'engine connected');
        const done = this.#read(stream);
        await this.h.onConnected(gap);
        gap = undefined;
        const why = await done;
        if (this.#stopped) return;
        gap = { from: this.#last, to: 0, reason: 'engine-unreachable' };
        this.log.warn(`engine event stream ended (${why}); reconnecting`);
        this.h.onDisconnected(why);
      } catch (err) {
        if (this.#stopped) return;
        gap ??= { from: this.#last, to: 0, reason: 'engine-unreachable' };
        if (failures === 0) this.log.warn(`engine unreachable: ${(err as Error).message}; retrying`);
        this.h.onDisconnected((err as Error).message);
      }
      failures++;
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      });
    }
  }

  /** Resolves with the reason the stream ended; never rejects. */
  #read(stream: NodeJS.ReadableStream): Promise<string> {
    return new Promise((resolve) => {
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) this.#line(line);
        }
        if (buf.length > MAX_LINE) { this.h.onMalformed?.(buf.slice(0, 200)); buf = ''; }
      });
      stream.on('end', () => resolve('end of stream'));
      stream.on('close', () => resolve('closed'));
      stream.on('error', (e: Error) => resolve(e.message));
    });
  }

  #line(line: string): void {
    let m: EngineMessage;
    try {
      m = JSON.parse(line) as EngineMessage;
    } catch {
      this.h.onMalformed?.(line.slice(0, 200));
      return;
    }
    if (typeof m !== 'object' || m === null) return this.h.onMalformed?.(line.slice(0, 200));
    const t = m.timeNano ? Math.floor(m.timeNano / 1000) : (m.time ?? 0) * 1e6;
    // After a reconnect the engine repeats what it sent since `since`: deliver each event once.
    const key = `${m.timeNano ?? m.time}|${m.Type}|${m.Action}|${m.Actor?.ID}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    if (this.#seen.size > REMEMBER) this.#seen.delete(this.#seen.values().next().value!);
    if (t > this.#last) this.#last = t;
    try {
      this.h.onMessage(m);
    } catch (err) {
      this.log.error(`engine event not handled: ${(err as Error).message}`);
    }
  }
}
