/**
 * The keyframe writer's per-container reorder buffer, holding events as the bytes the pipeline
 * already encoded them to (one arena) and their positions (typed arrays): no object per waiting
 * event. At 50,000 events/s a 2 s lateness window keeps ~100,000 events waiting (~6 MB as bytes);
 * as objects they lived long enough to be promoted (bench/memory.ts, recorder RSS: 408 MB with
 * event objects, 259 MB with this buffer). An event is decoded when released, as
 * replay decodes it from the store, so the keyframe state is built from exactly what is stored.
 */
import { decodeValue } from '../formats/codec.js';
import type { DashEvent } from '../formats/schema.js';

const MIN_ARENA = 16 * 1024;

export class ReorderBuffer {
  #time = new Float64Array(64);
  #seq = new Float64Array(64);
  #off = new Uint32Array(64);
  #len = new Uint32Array(64);
  /** Entries [head, count) wait, in (time, seq) order. */
  #head = 0;
  #count = 0;
  #bytes: Buffer = Buffer.allocUnsafeSlow(MIN_ARENA);
  #used = 0;

  get size(): number {
    return this.#count - this.#head;
  }

  /** Time of the oldest waiting event (call only when size > 0). */
  firstTime(): number {
    return this.#time[this.#head]!;
  }

  /** Adds an event in (time, seq) order; events mostly come in order, so this is mostly an append. */
  push(time: number, seq: number, value: Uint8Array): void {
    if (this.#count === this.#time.length) this.#makeRoom();
    if (this.#used + value.length > this.#bytes.length) this.#repack(value.length);
    let i = this.#count;
    while (i > this.#head && (time < this.#time[i - 1]! || (time === this.#time[i - 1]! && seq < this.#seq[i - 1]!))) i--;
    if (i < this.#count) {
      for (const a of [this.#time, this.#seq, this.#off, this.#len]) a.copyWithin(i + 1, i, this.#count);
    }
    this.#time[i] = time;
    this.#seq[i] = seq;
    this.#off[i] = this.#used;
    this.#len[i] = value.length;
    this.#bytes.set(value, this.#used);
    this.#used += value.length;
    this.#count++;
  }

  /** Removes the oldest waiting event and returns it decoded (call only when size > 0). */
  shift(container: string): DashEvent {
    const i = this.#head++;
    const off = this.#off[i]!;
    const ev = decodeValue(this.#bytes.subarray(off, off + this.#len[i]!), this.#time[i]!, this.#seq[i]!, container);
    // The decoder hands out a log line as a view of its input, and the arena is reused: copy it.
    if (ev.kind === 'log') ev.line = Uint8Array.prototype.slice.call(ev.line);
    if (this.#head === this.#count) this.#head = this.#count = this.#used = 0;
    return ev;
  }

  /** Index arrays full: drop released entries, or grow. */
  #makeRoom(): void {
    if (this.#head * 2 >= this.#count) {
      for (const a of [this.#time, this.#seq, this.#off, this.#len]) a.copyWithin(0, this.#head, this.#count);
      this.#count -= this.#head;
      this.#head = 0;
      return;
    }
    const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    this.#time = grow(this.#time, (n) => new Float64Array(n));
    this.#seq = grow(this.#seq, (n) => new Float64Array(n));
    this.#off = grow(this.#off, (n) => new Uint32Array(n));
    this.#len = grow(this.#len, (n) => new Uint32Array(n));
  }

  /** Arena full: move the waiting events' bytes to its front, in place and in offset order (so no
   * byte is overwritten before it has moved), growing the arena when they would fill more than 3/4
   * of it and shrinking it when they fill less than 1/8. */
  #repack(need: number): void {
    const off = this.#off;
    const live: number[] = [];
    let bytes = 0;
    for (let i = this.#head; i < this.#count; i++) {
      live.push(i);
      bytes += this.#len[i]!;
    }
    live.sort((a, b) => off[a]! - off[b]!);
    let cap = this.#bytes.length;
    while (bytes + need > cap * 0.75) cap *= 2;
    while (cap > MIN_ARENA && bytes + need < cap / 8) cap /= 2;
    const to = cap === this.#bytes.length ? this.#bytes : Buffer.allocUnsafeSlow(cap);
    let at = 0;
    for (const i of live) {
      const from = off[i]!;
      const len = this.#len[i]!;
      if (to !== this.#bytes || from !== at) this.#bytes.copy(to, at, from, from + len);
      off[i] = at;
      at += len;
    }
    this.#bytes = to;
    this.#used = at;
  }
}
