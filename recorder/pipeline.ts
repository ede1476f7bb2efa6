/**
 * The pipeline: stamps every event (sequence number, time if absent), encodes it once, batches,
 * and writes batches to the store one at a time. The per-event path is synchronous and does no
 * I/O: encode, push, maybe schedule a flush. If the store cannot keep up (or the disk is full) the
 * queue is bounded: what does not fit is counted and written later as a `gap` event, never
 * dropped silently.
 */
import { hostname } from 'node:os';
import type { KVEntry, KVWriter } from '../formats/kv.js';
import type { DashEvent, NewEvent } from '../formats/schema.js';
import type { RunRecord } from '../formats/records.js';
import { cidBytes, metaKey } from '../formats/keys.js';
import { encodeValue, pack } from '../formats/codec.js';
import { encodeBatch, type ContainerEvent } from '../formats/event-block.js';
import { nowMicros } from '../formats/time.js';
import { ContainerBook } from './container-book.js';
import type { Sink } from './source.js';
import type { Logger } from './logger.js';

export interface PipelineOptions {
  /** Flush when this many events are pending. */
  batchSize: number;
  /** Flush at most this long after the first pending event. */
  flushMs: number;
  /** Events held in memory at most (pending + in flight); beyond it they are counted as lost. */
  maxQueue: number;
  version: string;
  /** Removed containers leave memory this long after their last event (ContainerBook). */
  evictAfterMs?: number;
}
/** Consecutive failed writes after which the store is reopened. */
const REOPEN_AFTER = 3;
export const PIPELINE_DEFAULTS: PipelineOptions = { batchSize: 4096, flushMs: 100, maxQueue: 200_000, version: '0.0.0' };

/** Observers see every stamped event and its encoded value (keyframes, incident rules); they may add puts. */
export type Observer = (ev: DashEvent, out: KVEntry[], value: Uint8Array) => void;
/** Called every second with the wall clock (µs), so state held for quiet containers is released. */
export type Sweeper = (out: KVEntry[], now: number) => void;
/** How often sweepers run and removed containers are evicted. */
const SWEEP_MS = 1000;

export class Pipeline implements Sink {
  readonly #kv: KVWriter;
  readonly #opts: PipelineOptions;
  readonly #log: Logger;
  readonly book: ContainerBook;
  readonly #observers: Observer[] = [];
  readonly #sweepers: Sweeper[] = [];
  /** Background work whose puts go in a later batch (putLater); flush() waits for it. */
  readonly #later = new Set<Promise<void>>();
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #cids = new Map<string, Uint8Array>();
  #seq = 0;
  /** Events waiting for the next batch (written as blocks per container, formats/event-block.ts). */
  #events: ContainerEvent[] = [];
  /** Other puts waiting for the next batch (observers' keyframes and records, sweepers'). */
  #puts: KVEntry[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #lost = 0;
  #lostSince = 0;
  #failures = 0;
  /** Whether events were dropped while the store refused writes (else: it was too slow). */
  #lostToFailure = false;
  /** Container-record puts of a failed batch, retried with the next one (the book forgets them). */
  #carry: KVEntry[] = [];
  #closed = false;
  /** Every event with a seq up to this one is in the store (batches are written in seq order). */
  #writtenSeq: number;
  /** whenWritten() callers, resolved as batches land. */
  #waiters: { seq: number; resolve: () => void }[] = [];
  readonly #run: RunRecord;
  readonly #runKey: Buffer;
  /** Counters for `dashcam status`. */
  readonly stats = { events: 0, written: 0, lost: 0, batches: 0, lastBatchMs: 0, writeErrors: 0, reopens: 0 };

  private constructor(kv: KVWriter, opts: PipelineOptions, log: Logger, seq: number) {
    this.#kv = kv;
    this.#opts = opts;
    this.#log = log;
    this.#seq = seq;
    this.#writtenSeq = seq;
    this.book = new ContainerBook(opts.evictAfterMs);
    this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_MS);
    this.#sweepTimer.unref();
    const start = nowMicros();
    this.#run = { start, heartbeat: start, pid: process.pid, host: hostname(), version: opts.version };
    this.#runKey = metaKey(`run/${String(start).padStart(17, '0')}`);
  }

  static async open(kv: KVWriter, opts: Partial<PipelineOptions>, log: Logger, seq: number): Promise<Pipeline> {
    return new Pipeline(kv, { ...PIPELINE_DEFAULTS, ...opts }, log, seq);
  }

  get run(): RunRecord {
    return this.#run;
  }

  /** The seq up to which every event is in the store. */
  get writtenSeq(): number {
    return this.#writtenSeq;
  }

  /**
   * Resolves once every event up to `seq` is in the store, with the puts observers made as they
   * saw them (they go in the same batch); also once the pipeline is closed, written or not.
   */
  whenWritten(seq: number): Promise<void> {
    if (seq <= this.#writtenSeq || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  #wake(all: boolean): void {
    if (this.#waiters.length === 0) return;
    const due = this.#waiters.filter((w) => all || w.seq <= this.#writtenSeq);
    this.#waiters = all ? [] : this.#waiters.filter((w) => w.seq > this.#writtenSeq);
    for (const w of due) w.resolve();
  }

  addObserver(o: Observer): void {
    this.#observers.push(o);
  }

  addSweeper(s: Sweeper): void {
    this.#sweepers.push(s);
  }

  /**
   * Puts that need a read first (the keyframe writer withdrawing keyframes of an earlier run): they
   * go in the first batch after `work` resolves. A failure is logged; flush() and close() wait.
   */
  putLater(what: string, work: Promise<readonly KVEntry[]>): void {
    const p = work.then(
      (entries) => {
        if (entries.length === 0) return;
        for (const e of entries) this.#puts.push(e);
        if (!this.#timer) this.#timer = setTimeout(() => this.#kick(), this.#opts.flushMs);
      },
      (err: unknown) => this.#log.error(`${what}: ${(err as Error).message}`),
    ).finally(() => this.#later.delete(p));
    this.#later.add(p);
  }

  #sweep(): void {
    if (this.#closed) return;
    this.book.sweep();
    const n = this.#puts.length;
    const now = nowMicros();
    for (const s of this.#sweepers) s(this.#puts, now);
    if (this.#puts.length > n && !this.#timer) this.#timer = setTimeout(() => this.#kick(), this.#opts.flushMs);
  }

  /** Sizes of per-container state, for `status` and the leak test. */
  footprint(): Record<string, number> {
    return { book: this.book.size };
  }

  emit(input: NewEvent): void {
    if (this.#closed) return;
    if (this.#events.length + this.#inFlight >= this.#opts.maxQueue) {
      if (this.#lost === 0) this.#lostSince = input.time ?? nowMicros();
      if (this.#failures > 0) this.#lostToFailure = true;
      this.#lost++;
      this.stats.lost++;
      return;
    }
    const ev = input as DashEvent;
    if (ev.time === undefined) ev.time = nowMicros();
    ev.seq = ++this.#seq;
    this.#push(ev);
  }

  #push(ev: DashEvent): void {
    const value = encodeValue(ev);
    this.#events.push({ container: ev.container, time: ev.time, seq: ev.seq, value });
    this.stats.events++;
    this.book.observe(ev, value.length);
    for (const o of this.#observers) o(ev, this.#puts, value);
    if (this.#events.length + this.#puts.length >= this.#opts.batchSize) this.#kick();
    else if (!this.#timer) this.#timer = setTimeout(() => this.#kick(), this.#opts.flushMs);
  }

  /** Hex → raw container ID, cached: the hex decode is measurable on the per-batch path. */
  readonly #cid = (container: string): Uint8Array => {
    let b = this.#cids.get(container);
    if (!b) {
      if (this.#cids.size >= 4096) this.#cids.clear();
      this.#cids.set(container, (b = cidBytes(container)));
    }
    return b;
  };

  #kick(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (!this.#writing) this.#writing = this.#drainLoop().finally(() => { this.#writing = undefined; });
  }

  async #drainLoop(): Promise<void> {
    while (this.#events.length > 0 || this.#puts.length > 0 || this.#lost > 0) {
      if (this.#lost > 0 && this.#failures === 0) this.#recordLoss();
      const batch = this.#events;
      const other = this.#puts;
      this.#events = [];
      this.#puts = [];
      this.#inFlight = batch.length;
      const now = nowMicros();
      this.#run.heartbeat = now;
      const records = this.#carry.concat(this.book.drain());
      const puts = encodeBatch(batch, this.#cid);
      for (const e of other) puts.push(e);
      for (const e of records) puts.push(e);
      puts.push([this.#runKey, pack(this.#run)], [metaKey('seq'), pack(this.#seq)]);
      const t0 = performance.now();
      try {
        await this.#kv.write(puts);
        this.#carry = [];
        this.#failures = 0;
        if (batch.length > 0) this.#writtenSeq = batch[batch.length - 1]!.seq;
        this.#wake(false);
        this.stats.written += batch.length;
        this.stats.batches++;
        this.stats.lastBatchMs = performance.now() - t0;
      } catch (err) {
        // Keep the batch (put it back in front) and retry with backoff; the queue bound turns a
        // long outage (full disk) into counted loss instead of unbounded memory.
        this.#failures++;
        this.stats.writeErrors++;
        this.#events = batch.concat(this.#events);
        this.#puts = other.concat(this.#puts);
        // Latest record per key only: a long outage must not grow the carry with every retry.
        this.#carry = [...new Map(records.map((e) => [Buffer.from(e[0]).toString('latin1'), e])).values()];
        if (this.#failures === 1 || this.#failures % 50 === 0) this.#log.error(`store write failed (attempt ${this.#failures}): ${(err as Error).message}`);
        if (this.#closed && this.#failures > 3) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** Math.min(this.#failures, 7))));
        if (this.#failures >= REOPEN_AFTER) await this.#reopen();
      } finally {
        this.#inFlight = 0;
      }
    }
  }

  /**
   * LevelDB keeps a failed background write (a table it could not write on a full disk) as a
   * sticky error: every later write fails even once space is back, until the database is
   * reopened. Repeated failures therefore reopen the store in place (under the query server too).
   */
  async #reopen(): Promise<void> {
    if (!this.#kv.reopen) return;
    try {
      await this.#kv.reopen();
      this.stats.reopens++;
      this.#log.warn(`reopened the store after ${this.#failures} failed writes`);
    } catch (err) {
      if (this.#failures === REOPEN_AFTER || this.#failures % 50 === 0) this.#log.warn(`cannot reopen the store yet: ${(err as Error).message}`);
    }
  }

  /** Turns counted overflow into a host-level gap event once the queue has room again. */
  #recordLoss(): void {
    const lost = this.#lost;
    const failed = this.#lostToFailure;
    this.#lost = 0;
    this.#lostToFailure = false;
    const now = nowMicros();
    this.#log.warn(`${lost} events dropped: ${failed ? 'the store refused writes (disk full?)' : 'the store could not keep up'}`);
    const reason = failed ? 'write-failed' : 'queue-overflow';
    const detail = failed ? 'the store refused writes and the queue filled up' : 'events arrived faster than the store could write them';
    const ev = { kind: 'gap', source: 'dashcam', container: '', reason, lost, from: this.#lostSince, to: now, detail, time: now, seq: ++this.#seq } as DashEvent;
    this.#push(ev);
  }

  /** Resolves when everything emitted so far is on disk (with the puts of work begun before). */
  async flush(): Promise<void> {
    for (;;) {
      while (this.#events.length > 0 || this.#puts.length > 0 || this.#writing || this.#lost > 0) {
        this.#kick();
        await this.#writing;
      }
      if (this.#later.size === 0) return;
      await Promise.all(this.#later);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#closed = true; // no new events; the drain loop gives up after a few failed attempts
    try {
      await this.flush();
    } finally {
      this.#wake(true);
    }
    this.#run.stop = nowMicros();
    await this.#kv.write([[this.#runKey, pack(this.#run)], ...this.book.drain()]);
  }
}
