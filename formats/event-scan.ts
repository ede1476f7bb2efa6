/**
 * Reading one container's events over a key range, in (time, seq) order (or its reverse), from
 * entries that each hold one event or a block of them (event-block.ts).
 *
 * The range means what it meant when every event had its own key: the events whose own key lies
 * in [gte, lt). An entry is keyed by its first event and spans at most SPAN_MAX, so the read starts
 * SPAN_MAX before gte, and entries that overlap in time are merged through a small pending queue:
 *   forwards, every later entry starts at or after the one just read, so pending events before its
 *   key are final;
 *   backwards, every entry still unread starts before the one just read and so ends at most
 *   SPAN_MAX after its key: pending events later than that are final.
 * Entries rarely overlap (only for events that arrived late), and then only a few, so the queue
 * is mostly one entry's events passing straight through.
 */
import type { KVEntry, KVReader } from './kv.js';
import type { DashEvent } from './schema.js';
import { FormatError } from './errors.js';
import { EVENT_KEY_BYTES, P_EVENT, cidFromBytes, timeKey } from './keys.js';
import { SPAN_MAX, entrySpan, keySeq, keyTime, visitEntry } from './event-block.js';
import { decodeValueAt, kindNumAt } from './codec.js';
import { MAX_TIME } from './value-check.js';

/** A stored event not decoded yet: its position and where its value lies. */
export class RawEvent {
  constructor(
    readonly container: string,
    readonly time: number,
    readonly seq: number,
    readonly buf: Uint8Array,
    readonly off: number,
    readonly end: number,
  ) {}

  /** The kind number from the value's first bytes (-1 when not shaped like an event). */
  get kindNum(): number {
    return kindNumAt(this.buf, this.off);
  }

  value(): Uint8Array {
    return this.buf.subarray(this.off, this.end);
  }
}

/** Decodes a raw event; a damaged one fails with DECODE naming where it is. */
export function decodeRaw(r: RawEvent): DashEvent {
  try {
    if (r.time > MAX_TIME) throw new FormatError('DECODE', `time ${r.time} µs is beyond any date`);
    return decodeValueAt(r.buf, r.off, r.end, r.time, r.seq, r.container);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    throw new FormatError(err.code, `damaged event at container ${r.container || '(host)'} time ${r.time} seq ${r.seq}: ${err.message}`, { cause: err.cause ?? err });
  }
}

export interface EventRange {
  /** Event keys of one container (keys.ts timeKey): events whose key lies in [gte, lt). */
  gte: Uint8Array;
  lt: Uint8Array;
  reverse?: boolean;
  /** Events at most. */
  limit?: number;
}

const CHUNK = 1024;
/** A read with a limit below this goes in pages of entries (growing 4x), not one open-ended read. */
const PAGED_BELOW = 4096;
const FIRST_PAGE = 16;

/**
 * The entries of [gte, lt), in chunks. A limited read (a step, a probe, the last lines of a log)
 * needs a few entries beyond its events (those SPAN_MAX back that may overlap), but an open-ended
 * read fetches a read-ahead chunk of 256 KiB, over the query socket too: pages of 16, 64, 256...
 * entries read about as much as needed.
 */
async function* entries(kv: KVReader, gte: Uint8Array, lt: Uint8Array, reverse: boolean, paged: boolean): AsyncIterable<KVEntry[]> {
  if (!paged) return yield* kv.chunks({ gte, lt, reverse });
  for (let page = FIRST_PAGE; ; page *= 4) {
    let n = 0;
    let last: Uint8Array | undefined;
    for await (const chunk of kv.chunks({ gte, lt, reverse, limit: page })) {
      n += chunk.length;
      if (chunk.length) last = chunk[chunk.length - 1]![0];
      yield chunk;
    }
    if (n < page || !last) return;
    // The next page starts just past the last key read (keys are bytewise ordered).
    if (reverse) lt = last;
    else gte = Buffer.concat([last, ZERO]);
  }
}
const ZERO = Buffer.from([0]);
const earlier = (a: RawEvent, b: RawEvent): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq);

/** Pending events, sorted in output order, with a read index. */
class Pending {
  items: RawEvent[] = [];
  head = 0;
  constructor(readonly reverse: boolean) {}

  /** Adds one entry's events (ascending): appended when they all come after what is pending. */
  addAll(evs: RawEvent[]): void {
    const it = this.items;
    const last = it[it.length - 1];
    if (this.reverse) {
      if (this.size === 0 || earlier(evs[evs.length - 1]!, last!)) for (let i = evs.length - 1; i >= 0; i--) it.push(evs[i]!);
      else for (let i = evs.length - 1; i >= 0; i--) this.add(evs[i]!);
    } else if (this.size === 0 || earlier(last!, evs[0]!)) {
      for (const e of evs) it.push(e);
    } else {
      for (const e of evs) this.add(e);
    }
  }

  /** Adds an event in output order. */
  add(e: RawEvent): void {
    const it = this.items;
    let i = it.length;
    if (this.reverse) while (i > this.head && earlier(it[i - 1]!, e)) i--;
    else while (i > this.head && earlier(e, it[i - 1]!)) i--;
    if (i === it.length) it.push(e);
    else it.splice(i, 0, e);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  peek(): RawEvent {
    return this.items[this.head]!;
  }

  take(): RawEvent {
    const e = this.items[this.head++]!;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return e;
  }
}

function rangeEnds(r: EventRange): { container: string; lo: [number, number]; hi: [number, number]; from: Uint8Array } {
  for (const k of [r.gte, r.lt]) {
    if (k.length !== EVENT_KEY_BYTES || k[0] !== P_EVENT) throw new FormatError('BAD_ARGUMENT', 'an event range needs event keys at both ends');
  }
  const lo: [number, number] = [keyTime(r.gte), keySeq(r.gte)];
  const hi: [number, number] = [keyTime(r.lt), keySeq(r.lt)];
  const cid = r.gte.subarray(1, 33);
  return { container: cidFromBytes(r.gte), lo, hi, from: timeKey(P_EVENT, cid, Math.max(0, lo[0] - SPAN_MAX), 0) };
}

/** One container's stored events over a range, undecoded, in chunks. */
export async function* scanEvents(kv: KVReader, range: EventRange): AsyncIterable<RawEvent[]> {
  const { container, lo, hi, from } = rangeEnds(range);
  const reverse = range.reverse === true;
  let left = range.limit !== undefined && range.limit >= 0 ? range.limit : Infinity;
  if (left === 0) return;
  const pend = new Pending(reverse);
  const inRange = (t: number, s: number): boolean => (t > lo[0] || (t === lo[0] && s >= lo[1])) && (t < hi[0] || (t === hi[0] && s < hi[1]));
  let batch: RawEvent[] = [];
  const add = (t: number, s: number, buf: Uint8Array, off: number, end: number): void => {
    if (inRange(t, s)) batch.push(new RawEvent(container, t, s, buf, off, end));
  };
  let out: RawEvent[] = [];
  for await (const chunk of entries(kv, from, range.lt, reverse, left < PAGED_BELOW)) {
    for (const [k, v] of chunk) {
      const kt = keyTime(k);
      const ks = keySeq(k);
      // Pending events that no entry still unread can precede.
      if (reverse) {
        const bound = kt + SPAN_MAX;
        while (pend.size > 0 && pend.peek().time > bound) {
          out.push(pend.take());
          if (--left === 0) return yield out;
        }
      } else {
        while (pend.size > 0 && (pend.peek().time < kt || (pend.peek().time === kt && pend.peek().seq < ks))) {
          out.push(pend.take());
          if (--left === 0) return yield out;
        }
      }
      // Entries that end before the range hold nothing for it (read only because of the widening).
      if (kt < lo[0] && kt + entrySpan(v) < lo[0]) continue;
      visitEntry(k, v, add);
      if (batch.length) {
        pend.addAll(batch);
        batch = [];
      }
      if (out.length >= CHUNK) {
        yield out;
        out = [];
      }
    }
    if (out.length) {
      yield out;
      out = [];
    }
  }
  while (pend.size > 0) {
    out.push(pend.take());
    if (--left === 0) break;
  }
  if (out.length) yield out;
}

/** Chunks of raw events, decoded. */
export async function* decodeChunks(raw: AsyncIterable<RawEvent[]>): AsyncIterable<DashEvent[]> {
  for await (const raws of raw) {
    const evs: DashEvent[] = new Array(raws.length);
    for (let i = 0; i < raws.length; i++) evs[i] = decodeRaw(raws[i]!);
    yield evs;
  }
}

/** One container's events over a range, decoded, in chunks. */
export const readEvents = (kv: KVReader, range: EventRange): AsyncIterable<DashEvent[]> => decodeChunks(scanEvents(kv, range));
