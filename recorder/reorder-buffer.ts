/**
 * The keyframe writer's per-container event buffer, holding events as the bytes the pipeline
 * already encoded them to (in slabs) and their positions (typed arrays): no object per event.
 *
 * Entries go through two stages, in (time, seq) order:
 *   [head, rel)   released: past the lateness window, waiting to be folded into the next keyframe;
 *   [rel, count)  waiting: still inside the window.
 * A push may insert anywhere after the last drained event, among the released ones too: only what
 * a keyframe has folded is final. `drain` decodes the released events and hands them over, in
 * order, then drops them. The writer
 * drains only when it builds a keyframe, so the events' state objects live for one synchronous
 * fold and die young (bench/memory.ts: objects that lived between events were promoted and kept
 * the old generation growing). An event is decoded from the stored bytes, as replay decodes it,
 * so a keyframe is built from exactly what is stored.
 *
 * Bytes go into 64 KiB slabs in arrival order; a slab goes back to a pool shared by every
 * container's buffer once every event in it has been drained, and a buffer with nothing left in
 * it hands its current slab back too. An event inserted out of order moves only its index
 * entries, never bytes. (One arena repacked in place when full copied the whole window each time,
 * and an overlapping Buffer.copy clones its source first: most of a repack, bench/log-cpu.ts.)
 *
 * Why a pool: with a current and a spare slab of its own, every container that had sent one
 * event kept 64-128 KiB for the rest of its life: 64 MiB held for 1,000 quiet containers, 5.7 MiB
 * with the pool (bench/memory.ts). At 50,000 events/s over 8 containers it measured the same
 * either way: what that host holds is the window's events themselves.
 */
import { decodeValueAt, kindNum, kindNumAt } from '../formats/codec.js';
import type { DashEvent } from '../formats/schema.js';

const LOG = kindNum('log');
const SLAB = 64 * 1024;
/** Emptied slabs kept for reuse, at most (4 MiB): what an idle host holds once streams stop. */
const POOL_MAX = 64;

interface Slab { bytes: Buffer; used: number; live: number }

const pool: Slab[] = [];

function recycle(slab: Slab): void {
  slab.used = 0;
  if (slab.bytes.length === SLAB && pool.length < POOL_MAX) pool.push(slab);
}

/** Slabs in the pool (for tests). */
export const pooledSlabs = (): number => pool.length;

export class ReorderBuffer {
  #time = new Float64Array(64);
  #seq = new Float64Array(64);
  #off = new Uint32Array(64);
  #len = new Uint32Array(64);
  /** Per entry: 1 when it ends the container (its released entry is the last one used). */
  #end = new Uint8Array(64);
  /** Per entry: the slab its bytes are in. */
  #slab: (Slab | undefined)[] = new Array<Slab | undefined>(64);
  #head = 0;
  #rel = 0;
  #count = 0;
  #cur: Slab | undefined;
  /** Position of the last released event (0/0 before any). */
  releasedTime = 0;
  releasedSeq = 0;
  /** Position of the last drained event (0/0 before any): an event before it is too late. */
  drainedTime = 0;
  drainedSeq = 0;
  /** An event that ends the container was pushed among the released ones (release() never returns it). */
  endReleased = false;

  /** Events still inside the lateness window. */
  get waiting(): number {
    return this.#count - this.#rel;
  }

  /** Events released and not yet drained. */
  get released(): number {
    return this.#rel - this.#head;
  }

  /** Whether the buffer holds a slab of its own (none once drained empty). */
  get holdsSlab(): boolean {
    return this.#cur !== undefined;
  }

  /** Time of the oldest waiting event (call only when waiting > 0). */
  firstWaitingTime(): number {
    return this.#time[this.#rel]!;
  }

  /**
   * Adds an event in (time, seq) order (the caller rejects events before the last drained one);
   * events mostly come in order, so this is mostly an append. An event that sorts before the last
   * released one is released at once.
   */
  push(time: number, seq: number, value: Uint8Array, end = false): void {
    if (this.#count === this.#time.length) this.#makeRoom();
    const slab = this.#room(value.length);
    let i = this.#count;
    while (i > this.#head && (time < this.#time[i - 1]! || (time === this.#time[i - 1]! && seq < this.#seq[i - 1]!))) i--;
    if (i < this.#rel) {
      this.#rel++;
      if (end) this.endReleased = true;
    }
    if (i < this.#count) {
      for (const a of [this.#time, this.#seq, this.#off, this.#len, this.#end]) a.copyWithin(i + 1, i, this.#count);
      this.#slab.copyWithin(i + 1, i, this.#count);
    }
    this.#time[i] = time;
    this.#seq[i] = seq;
    this.#off[i] = slab.used;
    this.#len[i] = value.length;
    this.#end[i] = end ? 1 : 0;
    this.#slab[i] = slab;
    slab.bytes.set(value, slab.used);
    slab.used += value.length;
    slab.live++;
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
   * only during its call: a log line is a view of a slab, which is reused once drained. Log lines
   * followed by at least `keepLogs` later ones are not decoded: `skip` gets their position.
   */
  drain(container: string, fold: (ev: DashEvent) => void, skip?: (time: number, seq: number) => void, keepLogs = Infinity): void {
    // Index from which every log line is decoded: the keepLogs-th log line from the end.
    let from = this.#head;
    if (skip) {
      let logs = 0;
      for (let i = this.#rel - 1; i >= this.#head; i--) {
        if (kindNumAt(this.#slab[i]!.bytes, this.#off[i]!) === LOG && ++logs === keepLogs) { from = i; break; }
      }
    }
    for (let i = this.#head; i < this.#rel; i++) {
      const slab = this.#slab[i]!;
      const off = this.#off[i]!;
      if (i < from && kindNumAt(slab.bytes, off) === LOG) skip!(this.#time[i]!, this.#seq[i]!);
      else fold(decodeValueAt(slab.bytes, off, off + this.#len[i]!, this.#time[i]!, this.#seq[i]!, container));
      this.#slab[i] = undefined;
      if (--slab.live === 0 && slab !== this.#cur) recycle(slab);
    }
    this.#head = this.#rel;
    this.drainedTime = this.releasedTime;
    this.drainedSeq = this.releasedSeq;
    if (this.#head === this.#count) {
      this.#head = this.#rel = this.#count = 0;
      // Nothing left: a quiet container holds no slab until its next event.
      if (this.#cur) recycle(this.#cur);
      this.#cur = undefined;
    }
  }

  /** The slab the next `n` bytes go into. */
  #room(n: number): Slab {
    const cur = this.#cur;
    if (cur && cur.used + n <= cur.bytes.length) return cur;
    // An emptied current slab starts over; a big value gets a slab of its own size.
    if (cur && cur.live === 0) {
      cur.used = 0;
      if (n <= cur.bytes.length) return cur;
      recycle(cur);
    }
    const next = (n <= SLAB ? pool.pop() : undefined) ?? { bytes: Buffer.allocUnsafeSlow(Math.max(SLAB, n)), used: 0, live: 0 };
    this.#cur = next;
    return next;
  }

  /** Index arrays full: drop drained entries, or grow. */
  #makeRoom(): void {
    if (this.#head * 2 >= this.#count) {
      for (const a of [this.#time, this.#seq, this.#off, this.#len, this.#end]) a.copyWithin(0, this.#head, this.#count);
      this.#slab.copyWithin(0, this.#head, this.#count);
      this.#slab.fill(undefined, this.#count - this.#head, this.#count);
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
    this.#slab.length = this.#time.length;
  }
}
