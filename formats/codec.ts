/**
 * Event value encoding: a msgpack array `[kindNum, sourceNum, field0, field1, ...]` in the order
 * of the kind's `fields` in the schema table. Positional arrays keep values small (no field
 * names per event) and extend safely: a newer field is appended, an older record is shorter.
 * Time, sequence and container live in the key, not in the value.
 */
import { Packr } from 'msgpackr';
import { FormatError } from './errors.js';
import { KINDS, KIND_BY_NUM, SOURCES, SOURCE_NUM, type DashEvent, type Kind, type KindSpec } from './schema.js';
import { badEventField } from './value-check.js';
import { writeEventValue } from './value-writer.js';

// Plain msgpack (no msgpackr records), so any msgpack reader can decode a bundle's parts;
// Uint8Array round-trips as bin.
const OPTIONS = { useRecords: false, moreTypes: false, mapsAsObjects: true, variableMapSize: true } as const;
const packr = new Packr(OPTIONS);

/**
 * msgpackr packs every value, whatever Packr packs it, into one module-wide buffer and hands out
 * views of it; the buffer grows to four times the largest value packed and is then replaced at
 * that size whenever it fills. Packed that way, one 185 kB keyframe made every later event value
 * a view pinning a 740 kB buffer, and the recorder allocated one about every 0.2 s at 50,000
 * events/s: malloc's arena grew 7 -> 35-50 MB (bench/memory.ts, /proc smaps). Large values go
 * through packLarge instead: into a scratch buffer of ours, then copied out once, after which
 * msgpackr gets a fresh small buffer. Views of earlier buffers stay valid: nothing writes to them again.
 */
let scratch: Buffer = Buffer.allocUnsafeSlow(256 * 1024);
const FRESH = 16 * 1024;

/** Packs `v` and hands its bytes (valid during the call only) to `use`. */
export function packLarge<T>(v: unknown, use: (bytes: Buffer) => T): T {
  packr.useBuffer(scratch);
  const view = packr.pack(v);
  // msgpackr moved to a bigger buffer of its own for this value: keep that one as the scratch.
  if (view.buffer !== scratch.buffer) scratch = Buffer.from(view.buffer);
  packr.useBuffer(Buffer.allocUnsafeSlow(FRESH));
  return use(view);
}

/**
 * The kind number of the encoded event value at buf[off], without decoding it: values are msgpack
 * arrays whose first element is the kind number. Returns -1 when the value is not shaped like that.
 */
export function kindNumAt(buf: Uint8Array, off: number): number {
  const b0 = buf[off];
  if (b0 === undefined) return -1;
  let at: number;
  if (b0 >= 0x90 && b0 <= 0x9f) at = off + 1;
  else if (b0 === 0xdc) at = off + 3;
  else if (b0 === 0xdd) at = off + 5;
  else return -1;
  const n = buf[at];
  return n !== undefined && n < 0x80 ? n : -1;
}

const LOG_NUM = KINDS.log.num;
const ENGINE_TIME_AT = KINDS.log.fields.indexOf('engineTime');

export function encodeValue(ev: DashEvent): Buffer {
  const spec = KINDS[ev.kind] as KindSpec;
  const rec = ev as unknown as Record<string, unknown>;
  const fields = spec.fields;
  let n = fields.length;
  while (n > 0 && rec[fields[n - 1] as string] === undefined) n--;
  // A log line's engine time is almost always its event time (already in the key): store `true`
  // (1 byte) instead of repeating 9 bytes per line.
  const trueAt = spec.num === LOG_NUM && n > ENGINE_TIME_AT && rec.engineTime === ev.time ? ENGINE_TIME_AT : -1;
  const fast = writeEventValue(spec, rec, n, trueAt);
  if (fast) return fast;
  // What the fast writer does not write (maps, non-ASCII text, a value bigger than its chunk).
  const arr: unknown[] = new Array(2 + n);
  arr[0] = spec.num;
  arr[1] = SOURCE_NUM[ev.source];
  for (let i = 0; i < n; i++) {
    const v = rec[fields[i] as string];
    arr[2 + i] = v === undefined ? null : v;
  }
  if (trueAt >= 0) arr[2 + trueAt] = true;
  return packr.pack(arr);
}

/*
 * A fast path for the values the recorder writes: an array of small ints, ASCII strings, bytes,
 * float64, nil and booleans, and arrays of those (argv). Anything else (maps, non-ASCII strings,
 * 64-bit ints, ext types, damage) returns undefined and goes to msgpackr, so the result is always
 * what msgpackr gives. msgpackr's per-call setup (state, a DataView per buffer) cost more than the
 * decoding itself for values this small (bench/replay-seek.ts, `--format json`).
 */
const NO = Symbol('fallback');
let at = 0;
/** End of the value being decoded (values may lie inside a larger buffer: a block). */
let lim = 0;

/** The big-endian u32 at b[at] (no bounds check). */
export const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

function fastString(b: Uint8Array, len: number): string | typeof NO {
  const end = at + len;
  if (end > lim) return NO;
  for (let i = at; i < end; i++) if (b[i]! >= 0x80) return NO;
  const s = Buffer.prototype.latin1Slice.call(b, at, end) as string;
  at = end;
  return s;
}

function fastItem(b: Uint8Array, depth: number): unknown {
  if (at >= lim) return NO;
  const t = b[at++]!;
  if (t < 0x80) return t;
  if (t >= 0xe0) return t - 0x100;
  if (t >= 0xa0 && t <= 0xbf) return fastString(b, t & 0x1f);
  if (t >= 0x90 && t <= 0x9f) return depth > 0 ? fastArray(b, t & 0x0f, depth - 1) : NO;
  const left = lim - at;
  switch (t) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: case 0xc5: case 0xc6: {
      const w = t === 0xc4 ? 1 : t === 0xc5 ? 2 : 4;
      if (left < w) return NO;
      const len = w === 1 ? b[at]! : w === 2 ? (b[at]! << 8) | b[at + 1]! : u32(b, at);
      at += w;
      if (at + len > lim) return NO;
      return b.subarray(at, (at += len));
    }
    case 0xcb: {
      if (left < 8) return NO;
      const v = new DataView(b.buffer, b.byteOffset + at, 8).getFloat64(0);
      at += 8;
      return v;
    }
    case 0xcc: if (left < 1) return NO; return b[at++]!;
    case 0xcd: if (left < 2) return NO; at += 2; return (b[at - 2]! << 8) | b[at - 1]!;
    case 0xce: if (left < 4) return NO; at += 4; return u32(b, at - 4);
    case 0xd0: if (left < 1) return NO; return (b[at++]! << 24) >> 24;
    case 0xd1: if (left < 2) return NO; at += 2; return (((b[at - 2]! << 8) | b[at - 1]!) << 16) >> 16;
    case 0xd2: if (left < 4) return NO; at += 4; return u32(b, at - 4) | 0;
    case 0xd9: if (left < 1) return NO; at += 1; return fastString(b, b[at - 1]!);
    case 0xda: if (left < 2) return NO; at += 2; return fastString(b, (b[at - 2]! << 8) | b[at - 1]!);
    default: return NO;
  }
}

function fastArray(b: Uint8Array, n: number, depth: number): unknown[] | typeof NO {
  const arr = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = fastItem(b, depth);
    if (v === NO) return NO;
    arr[i] = v;
  }
  return arr;
}

function fastUnpack(b: Uint8Array, start: number, end: number): unknown[] | undefined {
  if (start >= end) return undefined;
  const h = b[start]!;
  let n: number;
  lim = end;
  if (h >= 0x90 && h <= 0x9f) { n = h & 0x0f; at = start + 1; }
  else if (h === 0xdc && end - start >= 3) { n = (b[start + 1]! << 8) | b[start + 2]!; at = start + 3; }
  else return undefined;
  const arr = fastArray(b, n, 1);
  // Trailing bytes are damage: msgpackr reports them.
  return arr === NO || at !== end ? undefined : arr;
}

/** Decodes a stored value; envelope parts come from the key (see keys.ts). */
export function decodeValue(value: Uint8Array, time: number, seq: number, container: string): DashEvent {
  return decodeValueAt(value, 0, value.length, time, seq, container);
}

/** decodeValue() of the value at buf[off, end) (an event inside a block, event-block.ts). */
export function decodeValueAt(buf: Uint8Array, off: number, end: number, time: number, seq: number, container: string): DashEvent {
  let arr: unknown;
  try {
    arr = fastUnpack(buf, off, end) ?? packr.unpack(buf.subarray(off, end));
  } catch (err) {
    throw new FormatError('DECODE', 'undecodable event value', { cause: err });
  }
  if (!Array.isArray(arr) || typeof arr[0] !== 'number') throw new FormatError('DECODE', 'event value is not an event record');
  const spec = KIND_BY_NUM[arr[0]];
  if (!spec) throw new FormatError('DECODE', `unknown event kind number ${arr[0]} (written by a newer dashcam?)`);
  // An integer index only: a damaged value could hold 'constructor' and pick up an Array method.
  const source = (Number.isInteger(arr[1]) ? SOURCES[arr[1] as number] : undefined) ?? 'dashcam';
  const ev: Record<string, unknown> = { time, seq, container, kind: spec.name, source };
  const fields = spec.fields;
  const n = Math.min(fields.length, arr.length - 2);
  for (let i = 0; i < n; i++) {
    const v = arr[2 + i];
    if (v !== null && v !== undefined) ev[fields[i] as string] = v;
  }
  const bad = badEventField(ev, spec.name, fields);
  if (bad !== undefined) throw new FormatError('DECODE', `${spec.name} event field ${bad} is missing or has the wrong type`);
  if (spec.num === LOG_NUM && ev.engineTime === true) ev.engineTime = time;
  return ev as unknown as DashEvent;
}

/** Generic msgpack for records (containers, incidents, meta); large ones go through packLarge. */
export function pack(v: unknown): Buffer {
  return packr.pack(v);
}
export function unpack<T>(b: Uint8Array, what: string): T {
  try {
    return packr.unpack(b) as T;
  } catch (err) {
    throw new FormatError('STORE_CORRUPT', `undecodable ${what}`, { cause: err });
  }
}

export function kindNum(kind: Kind): number {
  return KINDS[kind].num;
}
