/**
 * A fast path for writing event values, the counterpart of codec.ts's fast decoder: small ints,
 * ASCII strings, bytes, float64, nil, booleans, and arrays of those (argv), written straight into
 * a chunk of ours, the same bytes msgpackr writes for them (test/formats/codec.test.ts compares
 * them on every kind). Anything else (maps, non-ASCII strings, a value bigger than a chunk) goes
 * to msgpackr (codec.ts). Per call, msgpackr sets up its state and walks a general type dispatch,
 * which for values this small cost more than writing them: it was a quarter of the main thread's
 * time on the log path (the engine's captured log stream replayed in process), and writing values
 * here took bench/ingest.ts's pipeline loop (medians of 7, builds alternating) from
 * 295,000-317,000 to 449,000-450,000 events/s.
 *
 * Values are views of the chunk, handed out in order and never written again; a full chunk is
 * replaced, and lives on as long as views of it do (a batch in flight, a value being copied).
 */
import { SOURCE_NUM, type DashEvent, type KindSpec } from './schema.js';

const CHUNK = 64 * 1024;
let chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK);
let chunkView = new DataView(chunk.buffer, chunk.byteOffset, chunk.length);
/** Where the next value starts, and where the one being written started. */
let wPos = 0;
let wStart = 0;
/** fastEncode: a value it does not write (msgpackr does), or one that did not fit in the chunk. */
const NOT_FAST = -1;
const NO_ROOM = -2;

function newChunk(): void {
  chunk = Buffer.allocUnsafeSlow(CHUNK);
  chunkView = new DataView(chunk.buffer, chunk.byteOffset, chunk.length);
  wPos = 0;
}

/**
 * The value of event `rec` of kind `spec` with its first `n` fields (`true` in place of field
 * `trueAt`, if >= 0), as a view of the current chunk; undefined when msgpackr has to write it.
 */
export function writeEventValue(spec: KindSpec, rec: Record<string, unknown>, n: number, trueAt: number): Buffer | undefined {
  let end = fastEncode(spec, rec, n, trueAt);
  if (end === NO_ROOM && wStart > 0) {
    newChunk();
    end = fastEncode(spec, rec, n, trueAt);
  }
  if (end < 0) return undefined;
  const v = chunk.subarray(wStart, end);
  wPos = end;
  return v;
}

/** Writes [kind, source, ...fields] at wPos; returns where it ends, or NOT_FAST / NO_ROOM. */
function fastEncode(spec: KindSpec, rec: Record<string, unknown>, n: number, trueAt: number): number {
  const source = SOURCE_NUM[rec.source as DashEvent['source']];
  if (source === undefined || n > 13) return NOT_FAST;
  wStart = wPos;
  let p = wPos;
  // Header, kind and source: 3 bytes (kind and source numbers are fixints).
  if (p + 3 > CHUNK) return NO_ROOM;
  chunk[p] = 0x90 | (n + 2);
  chunk[p + 1] = spec.num;
  chunk[p + 2] = source;
  p += 3;
  const fields = spec.fields;
  for (let i = 0; i < n; i++) {
    const v = i === trueAt ? true : rec[fields[i] as string];
    p = fastItemWrite(v, p, true);
    if (p < 0) return p;
  }
  return p;
}

/** Writes `v` at p: a field of the event (`field`: it may be an array, and undefined is nil), or an array's item. */
function fastItemWrite(v: unknown, p: number, field: boolean): number {
  const room = CHUNK - p;
  if (typeof v === 'number') {
    if (room < 9) return NO_ROOM;
    if (v >>> 0 === v) {
      if (v < 0x80) chunk[p++] = v;
      else if (v < 0x100) { chunk[p] = 0xcc; chunk[p + 1] = v; p += 2; }
      else if (v < 0x10000) { chunk[p] = 0xcd; chunk[p + 1] = v >> 8; chunk[p + 2] = v & 0xff; p += 3; }
      else { chunk[p] = 0xce; chunkView.setUint32(p + 1, v); p += 5; }
    } else if (v >> 0 === v) {
      if (v >= -0x20) chunk[p++] = 0x100 + v;
      else if (v >= -0x80) { chunk[p] = 0xd0; chunk[p + 1] = v + 0x100; p += 2; }
      else if (v >= -0x8000) { chunk[p] = 0xd1; chunkView.setInt16(p + 1, v); p += 3; }
      else { chunk[p] = 0xd2; chunkView.setInt32(p + 1, v); p += 5; }
    } else {
      chunk[p] = 0xcb;
      chunkView.setFloat64(p + 1, v);
      p += 9;
    }
    return p;
  }
  if (typeof v === 'string') {
    const len = v.length;
    const head = len < 0x20 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
    if (room < head + len) return NO_ROOM;
    if (head === 1) chunk[p] = 0xa0 | len;
    else if (head === 2) { chunk[p] = 0xd9; chunk[p + 1] = len; }
    else if (head === 3) { chunk[p] = 0xda; chunk[p + 1] = len >> 8; chunk[p + 2] = len & 0xff; }
    else { chunk[p] = 0xdb; chunkView.setUint32(p + 1, len); }
    p += head;
    for (let i = 0; i < len; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) return NOT_FAST;
      chunk[p + i] = c;
    }
    return p + len;
  }
  if (v instanceof Uint8Array) {
    const len = v.length;
    const head = len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
    if (room < head + len) return NO_ROOM;
    if (head === 2) { chunk[p] = 0xc4; chunk[p + 1] = len; }
    else if (head === 3) { chunk[p] = 0xc5; chunk[p + 1] = len >> 8; chunk[p + 2] = len & 0xff; }
    else { chunk[p] = 0xc6; chunkView.setUint32(p + 1, len); }
    chunk.set(v, p + head);
    return p + head + len;
  }
  if (room < 3) return NO_ROOM;
  // A field left out is nil, as in encodeValue's array; an undefined item is msgpackr's to write.
  if (v === null || (v === undefined && field)) { chunk[p] = 0xc0; return p + 1; }
  if (v === true || v === false) { chunk[p] = v ? 0xc3 : 0xc2; return p + 1; }
  if (field && Array.isArray(v) && v.length < 0x10000) {
    const len = v.length;
    if (len < 0x10) chunk[p++] = 0x90 | len;
    else { chunk[p] = 0xdc; chunk[p + 1] = len >> 8; chunk[p + 2] = len & 0xff; p += 3; }
    for (let i = 0; i < len; i++) {
      p = fastItemWrite(v[i], p, false);
      if (p < 0) return p;
    }
    return p;
  }
  return NOT_FAST;
}
