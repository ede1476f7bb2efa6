/**
 * Event entries (FORMAT_VERSION 2): one LevelDB entry holds one event or a block of one
 * container's events.
 *
 *   key    e | cid(32) | time (8) | seq (8)       of the entry's first (earliest) event
 *   value  an event value (codec.ts), or a block:
 *          msgpack ext (type BLOCK_EXT) whose data is
 *            uvarint count (>= 2), uvarint span (last time - first time, µs)
 *            count x [ uvarint dt, zigzag dseq, uvarint length, event value ]
 *          dt and dseq are from the previous event (the first from the key: 0 and 0).
 *
 * Events inside a block are strictly increasing in (time, seq), and a block spans at most
 * SPAN_MAX of time. Entries may overlap one another in time (an event that arrived late lands in
 * a later batch), but never by more than SPAN_MAX, so a reader that starts SPAN_MAX before its
 * range and merges what overlaps reads every event exactly once, in order (event-scan.ts).
 *
 * Why blocks: LevelDB's binding makes two Buffers per entry, and at one event per entry that alone
 * capped `replay --format json` below its budget (bench/replay-seek.ts, 291,000 entries/s with no
 * decoding at all); per-entry costs on the write side (a key, a put, an index entry) shrink the same
 * way. A FORMAT_VERSION 1 store holds only one-event entries, which read the same.
 */
import { FormatError } from './errors.js';
import { u32 } from './codec.js';
import { EVENT_KEY_BYTES, P_EVENT, timeKey } from './keys.js';
import type { KVEntry } from './kv.js';

/** msgpack ext type of a block ('d'). */
export const BLOCK_EXT = 0x64;
/** Longest time a block may span, µs: how far before its range a reader starts. */
export const SPAN_MAX = 250_000;
/** Events per block at most: a seek decodes at most this many events it does not need. */
export const BLOCK_MAX_EVENTS = 256;
/** Value bytes per block at most (a block is read whole). */
export const BLOCK_MAX_BYTES = 32 * 1024;

const TWO32 = 0x1_0000_0000;
const damaged = (what: string): FormatError => new FormatError('DECODE', `damaged event block: ${what}`);

/** An event to store: its position and its encoded value. */
export interface StoredEvent { time: number; seq: number; value: Uint8Array }

const uvarintLen = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : n < 0x1000_0000 ? 4 : n < 2 ** 35 ? 5 : n < 2 ** 42 ? 6 : n < 2 ** 49 ? 7 : 8);
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

function putUvarint(b: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    b[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  b[at++] = n;
  return at;
}

/** One block (or a lone event's value) of events[from, to), which are in (time, seq) order. */
function encodeOne(cid: Uint8Array, evs: readonly StoredEvent[], from: number, to: number): KVEntry {
  const first = evs[from]!;
  const key = timeKey(P_EVENT, cid, first.time, first.seq);
  if (to - from === 1) return [key, first.value];
  const span = evs[to - 1]!.time - first.time;
  let size = uvarintLen(to - from) + uvarintLen(span);
  let pt = first.time;
  let ps = first.seq;
  for (let i = from; i < to; i++) {
    const e = evs[i]!;
    size += uvarintLen(e.time - pt) + uvarintLen(zigzag(e.seq - ps)) + uvarintLen(e.value.length) + e.value.length;
    pt = e.time;
    ps = e.seq;
  }
  const head = size < 0x100 ? 3 : size < 0x10000 ? 4 : 6;
  const b = Buffer.allocUnsafe(head + size);
  if (head === 3) { b[0] = 0xc7; b[1] = size; }
  else if (head === 4) { b[0] = 0xc8; b.writeUInt16BE(size, 1); }
  else { b[0] = 0xc9; b.writeUInt32BE(size, 1); }
  b[head - 1] = BLOCK_EXT;
  let at = putUvarint(b, head, to - from);
  at = putUvarint(b, at, span);
  pt = first.time;
  ps = first.seq;
  for (let i = from; i < to; i++) {
    const e = evs[i]!;
    at = putUvarint(b, at, e.time - pt);
    at = putUvarint(b, at, zigzag(e.seq - ps));
    at = putUvarint(b, at, e.value.length);
    b.set(e.value, at);
    at += e.value.length;
    pt = e.time;
    ps = e.seq;
  }
  return [key, b];
}

/**
 * The entries for one container's events, which must be in strictly increasing (time, seq)
 * order: consecutive events grouped into blocks of at most BLOCK_MAX_EVENTS events,
 * BLOCK_MAX_BYTES of values and SPAN_MAX of time.
 */
export function encodeEntries(cid: Uint8Array, evs: readonly StoredEvent[], out: KVEntry[] = []): KVEntry[] {
  let from = 0;
  while (from < evs.length) {
    const t0 = evs[from]!.time;
    let bytes = evs[from]!.value.length;
    let to = from + 1;
    while (to < evs.length && to - from < BLOCK_MAX_EVENTS && evs[to]!.time - t0 <= SPAN_MAX && bytes + evs[to]!.value.length <= BLOCK_MAX_BYTES) {
      bytes += evs[to]!.value.length;
      to++;
    }
    out.push(encodeOne(cid, evs, from, to));
    from = to;
  }
  return out;
}

/** Sorts events into (time, seq) order in place (they mostly come sorted: checked first). */
export function sortEvents<T extends { time: number; seq: number }>(evs: T[]): T[] {
  for (let i = 1; i < evs.length; i++) {
    const a = evs[i - 1]!;
    const b = evs[i]!;
    if (a.time > b.time || (a.time === b.time && a.seq > b.seq)) return evs.sort((x, y) => x.time - y.time || x.seq - y.seq);
  }
  return evs;
}

/** Where a block's records start, its count and its span; undefined for a one-event value. */
interface BlockHead { count: number; span: number; at: number; end: number }

let cur = 0;
function uvarint(b: Uint8Array, end: number): number {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (cur >= end) throw damaged('ends inside a number');
    const x = b[cur++]!;
    n += (x & 0x7f) * mul;
    if (x < 0x80) return n;
    mul *= 0x80;
  }
  throw damaged('number too long');
}

function blockHead(v: Uint8Array): BlockHead | undefined {
  const t = v[0];
  let len: number;
  let at: number;
  if (t === 0xc7 && v.length >= 3) { len = v[1]!; at = 3; }
  else if (t === 0xc8 && v.length >= 4) { len = (v[1]! << 8) | v[2]!; at = 4; }
  else if (t === 0xc9 && v.length >= 6) { len = ((v[1]! << 24) | (v[2]! << 16) | (v[3]! << 8) | v[4]!) >>> 0; at = 6; }
  else return undefined;
  if (v[at - 1] !== BLOCK_EXT) throw damaged(`unknown ext type ${v[at - 1]}`);
  if (at + len !== v.length) throw damaged(`length ${len} does not match the value's ${v.length - at} bytes`);
  cur = at;
  const count = uvarint(v, v.length);
  const span = uvarint(v, v.length);
  if (count < 2) throw damaged(`count ${count}`);
  if (span > SPAN_MAX) throw damaged(`span ${span} µs beyond ${SPAN_MAX}`);
  return { count, span, at: cur, end: v.length };
}

/** Is this value a block (as opposed to one event's value)? */
export const isBlock = (v: Uint8Array): boolean => v[0] === 0xc7 || v[0] === 0xc8 || v[0] === 0xc9;

/** Time from an entry's first event to its last, µs (0 for one event). Throws DECODE on damage. */
export function entrySpan(v: Uint8Array): number {
  return blockHead(v)?.span ?? 0;
}

/** Events in an entry. Throws DECODE on damage. */
export function entryCount(v: Uint8Array): number {
  return blockHead(v)?.count ?? 1;
}

/** Called with each event of an entry, in order: its position and where its value lies in `buf`. */
export type EventVisitor = (time: number, seq: number, buf: Uint8Array, off: number, end: number) => void;

const keyU64 = (k: Uint8Array, at: number): number => u32(k, at) * TWO32 + u32(k, at + 4);
/** Time and seq of an event key (no checks; the caller checked its length). */
export const keyTime = (k: Uint8Array): number => keyU64(k, 33);
export const keySeq = (k: Uint8Array): number => keyU64(k, 41);

/**
 * Visits the events of one stored entry in order and returns how many there were. A block whose
 * structure is damaged (lengths out of bounds, events out of order, a span that lies) throws
 * DECODE; event values themselves are checked when decoded.
 */
export function visitEntry(k: Uint8Array, v: Uint8Array, visit: EventVisitor): number {
  if (k.length !== EVENT_KEY_BYTES) throw new FormatError('STORE_CORRUPT', `bad key length ${k.length}`);
  const time0 = keyTime(k);
  const seq0 = keySeq(k);
  const h = blockHead(v);
  if (!h) {
    visit(time0, seq0, v, 0, v.length);
    return 1;
  }
  cur = h.at;
  let t = time0;
  let s = seq0;
  for (let i = 0; i < h.count; i++) {
    const dt = uvarint(v, h.end);
    const z = uvarint(v, h.end);
    const len = uvarint(v, h.end);
    const ds = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (i === 0 ? dt !== 0 || ds !== 0 : dt === 0 && ds <= 0) throw damaged(`event ${i} out of order`);
    t += dt;
    s += ds;
    const off = cur;
    if (off + len > h.end || len === 0) throw damaged(`event ${i} length ${len} out of bounds`);
    cur = off + len;
    // The visitor may itself read blocks (it never does today); keep our place.
    const resume = cur;
    visit(t, s, v, off, off + len);
    cur = resume;
  }
  if (cur !== h.end) throw damaged('trailing bytes');
  if (t - time0 !== h.span) throw damaged(`span ${h.span} µs, events span ${t - time0} µs`);
  return h.count;
}

/** An event of some container, to store. */
export interface ContainerEvent extends StoredEvent { container: string }

/**
 * The entries for a batch of events of any containers, in any order: grouped by container, each
 * group sorted and cut into blocks (encodeEntries). `cidOf` turns a container ID into its key bytes.
 */
export function encodeBatch(evs: readonly ContainerEvent[], cidOf: (container: string) => Uint8Array, out: KVEntry[] = []): KVEntry[] {
  const groups = new Map<string, ContainerEvent[]>();
  for (const e of evs) {
    const g = groups.get(e.container);
    if (g) g.push(e);
    else groups.set(e.container, [e]);
  }
  for (const [c, g] of groups) encodeEntries(cidOf(c), sortEvents(g), out);
  return out;
}
