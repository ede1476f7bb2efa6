/**
 * The keyframe writer's per-container event buffer, holding events as the bytes the pipeline
 * already encoded them to (one arena) and their positions (typed arrays): no object per event.
 *
 * Entries go through two stages, in (time, seq) order:
 *   [head, rel)   released: past the lateness window, waiting to be folded into the next keyframe;
 *   [rel, count)  waiting: still inside the window, where a later push may insert before them.
 * `drain` decodes the released events and hands them over, in order, then drops them. The writer
 * drains only when it builds a keyframe, so the events' state objects live for one synchronous
 * fold and die young (bench/memory.ts: objects that lived between events were promoted and kept
 * the old generation growing). An event is decoded from the stored bytes, as replay decodes it,
 * so a keyframe is built from exactly what is stored.
 */
import { decodeValue } from '../formats/codec.js';
import type { DashEvent } from '../formats/schema.js';

const MIN_ARENA = 16 * 1024;

export class ReorderBuffer {
  #time = new Float64Array(64);
  #seq = new Float64Array(64);
  #off = new Uint32Array(64);
  #len = new Uint32Array(64);
  /** Per entry: 1 when it ends the container (its released entry is the last one used). */
  #end = new Uint8Array(64);
  #head = 0;
  #rel = 0;
  #count = 0;
  #bytes: Buffer = Buffer.allocUnsafeSlow(MIN_ARENA);
  #used = 0;
  /** Position of the last released event (0/0 before any). */
  releasedTime = 0;
  releasedSeq = 0;

  /** Events still inside the lateness window. */
  get waiting(): number {
    return this.#count - this.#rel;
  }

  /** Events released and not yet drained. */
  get released(): number {
    return this.#rel - this.#head;
  }

  /** Time of the oldest waiting event (call only when waiting > 0). */
  firstWaitingTime(): number {
    return this.#time[this.#rel]!;
  }

  /**
   * Adds an event in (time, seq) order among the waiting ones (the caller rejects events before
   * the last released one); events mostly come in order, so this is mostly an append.
   */
  push(time: number, seq: number, value: Uint8Array, end = false): void {
    if (this.#count === this.#time.length) this.#makeRoom();
    if (this.#used + value.length > this.#bytes.length) this.#repack(value.length);
    let i = this.#count;
    while (i > this.#rel && (time < this.#time[i - 1]! || (time === this.#time[i - 1]! && seq < this.#seq[i - 1]!))) i--;
    if (i < this.#count) {
      for (const a of [this.#time, this.#seq, this.#off, this.#len, this.#end]) a.copyWithin(i + 1, i, this.#count);
    }
    this.#time[i] = time;
    this.#seq[i] = seq;
    this.#off[i] = this.#used;
    this.#len[i] = value.length;
    this.#end[i] = end ? 1 : 0;
    this.#bytes.set(value, this.#used);
    this.#used += value.length;
    this.#count++;
  }

  /** Releases the oldest waiting event (call only when waiting > 0); true when it ends the container. */
  release(): boolean {
    const i = this.#rel++;
    this.releasedTime = this.#time[i]!;
    this.releasedSeq = this.#seq[i]!;
    return this.#end[i] === 1;
  }

  /**
   * Decodes the released events in order, hands each to `fold`, and drops them. An event is valid
   * only during its call: a log line is a view of the arena, which later pushes reuse.
   */
  drain(container: string, fold: (ev: DashEvent) => void): void {
    for (let i = this.#head; i < this.#rel; i++) {
      const off = this.#off[i]!;
      fold(decodeValue(this.#bytes.subarray(off, off + this.#len[i]!), this.#time[i]!, this.#seq[i]!, container));
    }
    this.#head = this.#rel;
    if (this.#head === this.#count) this.#head = this.#rel = this.#count = this.#used = 0;
  }

  /** Index arrays full: drop drained entries, or grow. */
  #makeRoom(): void {
    if (this.#head * 2 >= this.#count) {
      for (const a of [this.#time, this.#seq, this.#off, this.#len, this.#end]) a.copyWithin(0, this.#head, this.#count);
      this.#count -= this.#head;
      this.#rel -= this.#head;
      this.#head = 0;
      return;
    }
    const grow = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    this.#time = grow(this.#time, (n) => new Float64Array(n));
    this.#seq = grow(this.#seq, (n) => new Float64Array(n));
    this.#off = grow(this.#off, (n) => new Uint32Array(n));
    this.#len = grow(this.#len, (n) => new Uint32Array(n));
    this.#end = grow(this.#end, (n) => new Uint8Array(n));
  }

  /** Arena full: move the live (released or waiting) events' bytes to its front, in place and in
   * offset order (so no byte is overwritten before it has moved), growing the arena when they
   * would fill more than 3/4 of it and shrinking it when they fill less than 1/8. */
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
