/**
 * JSON Lines straight from stored bytes: each event's msgpack value is written out as its JSON
 * line, byte for byte what `toJsonLine(decodeRaw(r))` gives, with no event object, no string per
 * field and no string for the line. Measured with bench/replay-seek.ts (`--format json`), decoding
 * into objects and building the line as a string cost about 5 µs per event between them, the
 * string joins and their flattening the largest part.
 *
 * It writes what the recorder writes: ASCII strings, integers, floats, byte strings (log lines,
 * UTF-8 or not), lists of strings. Anything else (a map, a non-ASCII string, a 64-bit integer, a
 * field of the wrong type, damage) makes it go back to the start of the line and write it through
 * the object path, which gives the same bytes or throws the same DECODE error. The unit test
 * compares both paths on random and damaged values.
 */
import { isUtf8 } from 'node:buffer';
import { endianness } from 'node:os';
import { KINDS, KIND_BY_NUM, SOURCES, type KindSpec } from './schema.js';
import { FIELD_TYPES, REQUIRED, type FieldType } from './value-check.js';
import { TIME_FIELDS, hasJsonPlan, toJsonLine } from './jsonl.js';
import { decodeRaw, type RawEvent } from './event-scan.js';
import { u32 } from './codec.js';

const PLAIN = 0;
const TIME = 1;
const LINE = 2;
interface FieldPlan { key: Buffer; type: FieldType | undefined; how: number; required: boolean }
interface KindPlan { kind: Buffer; fields: FieldPlan[]; required: number }

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const PLANS: (KindPlan | undefined)[] = [];
for (const spec of Object.values(KINDS) as KindSpec[]) {
  if (!hasJsonPlan(spec.name)) continue;
  const req = new Set(REQUIRED[spec.name]);
  PLANS[spec.num] = {
    kind: ascii(`,"kind":${JSON.stringify(spec.name)}`),
    fields: spec.fields.map((name) => ({ key: ascii(`,${JSON.stringify(name)}:`), type: FIELD_TYPES[name], how: name === 'line' ? LINE : TIME_FIELDS.has(name) ? TIME : PLAIN, required: req.has(name) })),
    required: req.size,
  };
}
const SOURCE_PART = SOURCES.map((s) => ascii(`,"source":${JSON.stringify(s)}`));
const SEQ = ascii(',"seq":');
const LINE_END = ascii('}\n');
/** rfc3339() takes its exact, cached path up to here (jsonl.ts). */
const FAST_TIME_MAX = 4e15;

/** Why a value left the fast path: not an error, just "write it through the object path". */
const SLOW = -1;

// msgpack item categories.
const NIL = 0;
const TRUE = 1;
const FALSE = 2;
const INT = 3;
const FLOAT = 4;
const STR = 5;
const BIN = 6;
const ARR = 7;
const OTHER = 8;

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const LE = endianness() === 'LE';

/** JSON escapes of the bytes below 0x20 (as JSON.stringify writes them), '"' and '\'. */
const ESC: (Buffer | undefined)[] = [];
for (let c = 0; c < 0x20; c++) ESC[c] = ascii(JSON.stringify(String.fromCharCode(c)).slice(1, -1));
ESC[0x22] = ascii('\\"');
ESC[0x5c] = ascii('\\\\');

export class JsonLinesWriter {
  #buf = Buffer.allocUnsafe(1 << 16);
  #pos = 0;
  /** Read position in the value being written, its end, and the last item header read. */
  #p = 0;
  #lim = 0;
  #len = 0;
  #num = 0;
  #cachedSecond = -1;
  readonly #timePrefix = Buffer.alloc(20);
  /** Per kind number: the envelope's middle for the last source and container seen. */
  readonly #heads: ({ source: number; container: string; bytes: Buffer } | undefined)[] = [];
  /** Lines written through the object path (maps, non-ASCII text, damage). */
  fallbacks = 0;

  /** Appends the event's JSON line. Throws DECODE on a damaged value, as decodeRaw does. */
  add(r: RawEvent): void {
    const start = this.#pos;
    if (this.#fast(r) === SLOW) {
      this.#pos = start;
      this.fallbacks++;
      this.#string(`${toJsonLine(decodeRaw(r))}\n`);
    }
  }

  /** The lines added since the last call, as one buffer of its own. */
  take(): Buffer {
    const out = Buffer.from(this.#buf.subarray(0, this.#pos));
    this.#pos = 0;
    return out;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.#buf.copy(b, 0, 0, this.#pos);
    this.#buf = b;
  }

  #bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  #string(s: string): void {
    this.#room(Buffer.byteLength(s));
    this.#pos += this.#buf.write(s, this.#pos, 'utf8');
  }

  /** A non-negative integer below 2^53, in decimal. */
  #uint(n: number): void {
    this.#room(16);
    const b = this.#buf;
    if (n < 10) { b[this.#pos++] = 0x30 + n; return; }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let at = this.#pos + digits;
    this.#pos = at;
    for (let x = n; at > this.#pos - digits; x = Math.floor(x / 10)) b[--at] = 0x30 + (x % 10);
  }

  #int(n: number): void {
    if (n < 0) {
      this.#room(1);
      this.#buf[this.#pos++] = 0x2d;
      this.#uint(-n);
    } else this.#uint(n);
  }

  /** `"YYYY-MM-DDTHH:MM:SS.uuuuuuZ"` for an integer time the cached path covers. */
  #time(t: number): void {
    const sec = Math.floor(t / 1e6);
    if (sec !== this.#cachedSecond) {
      this.#timePrefix.write(new Date(sec * 1000).toISOString().slice(0, 20), 0, 'latin1');
      this.#cachedSecond = sec;
    }
    this.#room(29);
    const b = this.#buf;
    b[this.#pos++] = 0x22;
    this.#timePrefix.copy(b, this.#pos);
    this.#pos += 20;
    let micro = t - sec * 1e6;
    for (let i = 5; i >= 0; i--, micro = Math.floor(micro / 10)) b[this.#pos + i] = 0x30 + (micro % 10);
    this.#pos += 6;
    b[this.#pos++] = 0x5a;
    b[this.#pos++] = 0x22;
  }

  /** Bytes [from, to) of `src` as a JSON string body; SLOW at a byte >= 0x80 unless `utf8` allows it. */
  #quoted(src: Uint8Array, from: number, to: number, utf8: boolean): number {
    this.#room((to - from) * 6 + 2);
    const b = this.#buf;
    b[this.#pos++] = 0x22;
    let run = from;
    for (let i = from; i < to; i++) {
      const c = src[i]!;
      if (c >= 0x80) {
        if (utf8) continue;
        return SLOW;
      }
      const esc = ESC[c];
      if (esc === undefined) continue;
      this.#copy(src, run, i);
      esc.copy(b, this.#pos);
      this.#pos += esc.length;
      run = i + 1;
    }
    this.#copy(src, run, to);
    b[this.#pos++] = 0x22;
    return 0;
  }

  /** Copies src[from, to) to the output (room already made); short runs byte by byte, with no view. */
  #copy(src: Uint8Array, from: number, to: number): void {
    const b = this.#buf;
    if (to - from > 64) b.set(src.subarray(from, to), this.#pos);
    else for (let i = from, j = this.#pos; i < to; i++, j++) b[j] = src[i]!;
    this.#pos += to - from;
  }

  /** Reads the header of the next msgpack item; its length or value in #len / #num. */
  #item(v: Uint8Array): number {
    if (this.#p >= this.#lim) return OTHER;
    const t = v[this.#p++]!;
    if (t < 0x80) { this.#num = t; return INT; }
    if (t >= 0xe0) { this.#num = t - 0x100; return INT; }
    if (t >= 0xa0 && t <= 0xbf) { this.#len = t & 0x1f; return STR; }
    if (t >= 0x90 && t <= 0x9f) { this.#len = t & 0x0f; return ARR; }
    const p = this.#p;
    const left = this.#lim - p;
    switch (t) {
      case 0xc0: return NIL;
      case 0xc2: return FALSE;
      case 0xc3: return TRUE;
      case 0xc4: if (left < 1) return OTHER; this.#len = v[p]!; this.#p += 1; return BIN;
      case 0xc5: if (left < 2) return OTHER; this.#len = (v[p]! << 8) | v[p + 1]!; this.#p += 2; return BIN;
      case 0xc6: if (left < 4) return OTHER; this.#len = u32(v, p); this.#p += 4; return BIN;
      case 0xcb: {
        if (left < 8) return OTHER;
        for (let i = 0; i < 8; i++) f64b[LE ? 7 - i : i] = v[p + i]!;
        this.#num = f64[0]!;
        this.#p += 8;
        return FLOAT;
      }
      case 0xcc: if (left < 1) return OTHER; this.#num = v[p]!; this.#p += 1; return INT;
      case 0xcd: if (left < 2) return OTHER; this.#num = (v[p]! << 8) | v[p + 1]!; this.#p += 2; return INT;
      case 0xce: if (left < 4) return OTHER; this.#num = u32(v, p); this.#p += 4; return INT;
      case 0xd0: if (left < 1) return OTHER; this.#num = (v[p]! << 24) >> 24; this.#p += 1; return INT;
      case 0xd1: if (left < 2) return OTHER; this.#num = (((v[p]! << 8) | v[p + 1]!) << 16) >> 16; this.#p += 2; return INT;
      case 0xd2: if (left < 4) return OTHER; this.#num = u32(v, p) | 0; this.#p += 4; return INT;
      case 0xd9: if (left < 1) return OTHER; this.#len = v[p]!; this.#p += 1; return STR;
      case 0xda: if (left < 2) return OTHER; this.#len = (v[p]! << 8) | v[p + 1]!; this.#p += 2; return STR;
      case 0xdc: if (left < 2) return OTHER; this.#len = (v[p]! << 8) | v[p + 1]!; this.#p += 2; return ARR;
      default: return OTHER;
    }
  }

  /** A string item's bytes as JSON (ASCII only), or SLOW. */
  #str(v: Uint8Array): number {
    const end = this.#p + this.#len;
    if (end > this.#lim) return SLOW;
    const r = this.#quoted(v, this.#p, end, false);
    this.#p = end;
    return r;
  }

  #fast(r: RawEvent): number {
    const v = r.buf;
    this.#p = r.off;
    this.#lim = r.end;
    if (this.#item(v) !== ARR) return SLOW;
    const n = this.#len - 2;
    if (this.#item(v) !== INT) return SLOW;
    const kind = this.#num;
    const plan = PLANS[kind];
    if (plan === undefined || n > plan.fields.length || n < 0) return SLOW;
    if (this.#item(v) !== INT || this.#num < 0 || this.#num >= SOURCES.length) return SLOW;
    const source = this.#num;
    if (!(r.time >= 0 && r.time <= FAST_TIME_MAX && Number.isInteger(r.time) && Number.isSafeInteger(r.seq) && r.seq >= 0)) return SLOW;

    this.#room(9);
    this.#buf.write('{"time":', this.#pos, 'latin1');
    this.#pos += 8;
    this.#time(r.time);
    this.#bytes(this.#headOf(kind, plan, source, r.container));
    this.#bytes(SEQ);
    this.#uint(r.seq);

    let required = 0;
    for (let i = 0; i < n; i++) {
      const f = plan.fields[i]!;
      const t = this.#item(v);
      if (t === NIL) continue;
      if (f.required) required++;
      this.#bytes(f.key);
      if (this.#field(v, t, f, r.time) === SLOW) return SLOW;
    }
    if (required !== plan.required || this.#p !== this.#lim) return SLOW;
    this.#bytes(LINE_END);
    return 0;
  }

  /** One present field's value, checked against its type as decodeValue checks it. */
  #field(v: Uint8Array, t: number, f: FieldPlan, time: number): number {
    if (f.how === LINE) {
      if (t !== BIN) return SLOW;
      const end = this.#p + this.#len;
      if (end > this.#lim) return SLOW;
      // Valid UTF-8 reads back as the same bytes; anything else goes the object path (U+FFFD, lineBase64).
      let high = false;
      for (let i = this.#p; i < end; i++) if (v[i]! >= 0x80) { high = true; break; }
      if (high && !isUtf8(v.subarray(this.#p, end))) return SLOW;
      this.#quoted(v, this.#p, end, true);
      this.#p = end;
      return 0;
    }
    if (f.how === TIME) {
      // engineTime `true` is the event's own time (codec.ts).
      if (t === TRUE && f.type === 'timeOrTrue') { this.#time(time); return 0; }
      if (t !== INT || this.#num < 0 || this.#num > FAST_TIME_MAX || (f.type !== 'number' && f.type !== 'time' && f.type !== 'timeOrTrue')) return SLOW;
      this.#time(this.#num);
      return 0;
    }
    switch (f.type) {
      case 'string':
        return t === STR ? this.#str(v) : SLOW;
      case 'number':
        if (t === INT) { this.#int(this.#num); return 0; }
        if (t === FLOAT) { this.#string(Number.isFinite(this.#num) ? String(this.#num) : 'null'); return 0; }
        return SLOW;
      case 'strings': {
        if (t !== ARR) return SLOW;
        const count = this.#len;
        this.#room(1);
        this.#buf[this.#pos++] = 0x5b;
        for (let j = 0; j < count; j++) {
          if (j > 0) { this.#room(1); this.#buf[this.#pos++] = 0x2c; }
          if (this.#item(v) !== STR || this.#str(v) === SLOW) return SLOW;
        }
        this.#room(1);
        this.#buf[this.#pos++] = 0x5d;
        return 0;
      }
      default:
        return SLOW;
    }
  }

  /** `,"kind":…,"source":…,"container":…`: a window is one container or a few, so it is built once per kind and source. */
  #headOf(kind: number, plan: KindPlan, source: number, container: string): Buffer {
    const h = this.#heads[kind];
    if (h !== undefined && h.source === source && h.container === container) return h.bytes;
    const bytes = Buffer.concat([plan.kind, SOURCE_PART[source]!, ascii(`,"container":${JSON.stringify(container)}`)]);
    this.#heads[kind] = { source, container, bytes };
    return bytes;
  }
}

/** Lookup for tests: the kind plans cover every kind the object path plans. */
export const plannedKinds = (): string[] => PLANS.flatMap((p, num) => (p ? [KIND_BY_NUM[num]!.name] : []));
