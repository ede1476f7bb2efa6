/**
 * Small, seeded fuzzing kit: a PRNG (so a failing case can be replayed from its seed), byte
 * mutators, tar-aware mutators for bundles, and a case runner that classifies each outcome.
 * Case counts default to a CI-sized number; FUZZ_CASES raises it on demand, FUZZ_SEED replays.
 */
import { FormatError } from '../../formats/errors.js';
import { pack as packAny } from '../../formats/codec.js';
import { encodeManifest, sha256Hex, type Manifest } from '../../formats/bundle-manifest.js';
import { tarChunks } from '../../formats/bundle-tar.js';

/** mulberry32: tiny, fast, good enough to pick mutations; deterministic from its seed. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** How many cases to run: FUZZ_CASES when set, else the CI default. */
export function fuzzCases(ciDefault: number): number {
  const n = Number(process.env.FUZZ_CASES);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : ciDefault;
}
/** The base seed: FUZZ_SEED when set (to replay a failure), else a fixed one so CI is stable. */
export function fuzzSeed(fallback = 0x5eed): number {
  const n = Number(process.env.FUZZ_SEED);
  return Number.isFinite(n) && process.env.FUZZ_SEED ? n : fallback;
}

/** Values that tend to break parsers. */
export const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x2f, 0x2e, 0x30, 0x37, 0x38, 0x20];

export function flipBits(buf: Buffer, rng: Rng, n = 1 + rng.int(8)): Buffer {
  const b = Buffer.from(buf);
  for (let i = 0; i < n && b.length; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
  return b;
}
export function truncate(buf: Buffer, rng: Rng): Buffer {
  return Buffer.from(buf.subarray(0, rng.int(buf.length)));
}
export function insertBytes(buf: Buffer, rng: Rng): Buffer {
  const at = rng.int(buf.length + 1);
  const ins = rng.chance(0.5) ? rng.bytes(1 + rng.int(16)) : Buffer.alloc(1 + rng.int(1024), rng.pick(INTERESTING_BYTES));
  return Buffer.concat([buf.subarray(0, at), ins, buf.subarray(at)]);
}
export function deleteBytes(buf: Buffer, rng: Rng): Buffer {
  const at = rng.int(buf.length);
  const n = 1 + rng.int(Math.min(1024, buf.length - at));
  return Buffer.concat([buf.subarray(0, at), buf.subarray(at + n)]);
}
export function overwriteBytes(buf: Buffer, rng: Rng): Buffer {
  const b = Buffer.from(buf);
  const at = rng.int(b.length);
  const n = 1 + rng.int(Math.min(64, b.length - at));
  for (let i = 0; i < n; i++) b[at + i] = rng.chance(0.5) ? rng.int(256) : rng.pick(INTERESTING_BYTES);
  return b;
}
/** Any of the blind byte mutations above, sometimes stacked. */
export function mutateBytes(buf: Buffer, rng: Rng): { data: Buffer; how: string } {
  const ops = [flipBits, truncate, insertBytes, deleteBytes, overwriteBytes] as const;
  let data = buf;
  const how: string[] = [];
  const rounds = rng.chance(0.8) ? 1 : 2 + rng.int(3);
  for (let i = 0; i < rounds; i++) {
    const op = rng.pick(ops);
    data = op(data, rng);
    how.push(op.name);
  }
  return { data, how: how.join('+') };
}

// ---- tar-aware mutations -------------------------------------------------------------------

const BLOCK = 512;
/** The ustar header fields: [offset, width]. */
export const TAR_FIELDS = {
  name: [0, 100], mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12],
  chksum: [148, 8], typeflag: [156, 1], linkname: [157, 100], magic: [257, 6], version: [263, 2], prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;
export type TarField = keyof typeof TAR_FIELDS;

/** Offsets of every header block in a well-formed archive (walks sizes, no validation). */
export function tarHeaderOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    out.push(off);
    const size = parseInt(h.toString('ascii', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

/** Recomputes a header's checksum so the mutation gets past the checksum test into the parser. */
export function fixChecksum(buf: Buffer, at: number): void {
  buf.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[at + i]!;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', at + 148, 8, 'ascii');
}

const FIELD_VALUES: Record<TarField, string[]> = {
  name: ['../etc/passwd', '/etc/passwd', 'a/../../b', 'manifest.json', 'events.bin.br', 'x'.repeat(100), '', '.hidden', 'a b', 'a\x1b[2Jb', 'dir/file', '..'],
  mode: ['7777777', '', 'zzzz', '-1'],
  uid: ['7777777', 'abc'],
  gid: ['7777777', '\xff\xff'],
  size: ['77777777777', '7777777777', '0', '1', '', '-1', '8', '99', ' 1 ', '1e9', '00000001000', '17777777777'],
  mtime: ['77777777777', 'x'],
  chksum: ['0', '7777777', '', 'garbage'],
  typeflag: ['1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'V', '\x00', 'A'],
  linkname: ['/etc/shadow', '../../x', ''],
  magic: ['ustar ', 'ustaR', '\0\0\0\0\0', 'gnutar'],
  version: ['  ', '\0\0', '99'],
  prefix: ['..', '/abs', 'dir', 'x'.repeat(155), 'a\nb'],
};

/** Sets one header field of one entry to a hostile value; usually fixes the checksum after. */
export function mutateTarHeader(buf: Buffer, rng: Rng): { data: Buffer; how: string } {
  const b = Buffer.from(buf);
  const heads = tarHeaderOffsets(b);
  if (heads.length === 0) return { data: flipBits(b, rng), how: 'flipBits(no header)' };
  const at = rng.pick(heads);
  const field = rng.pick(Object.keys(TAR_FIELDS) as TarField[]);
  const [off, width] = TAR_FIELDS[field];
  const value = rng.chance(0.8) ? rng.pick(FIELD_VALUES[field]) : rng.bytes(1 + rng.int(width)).toString('latin1');
  b.fill(0, at + off, at + off + width);
  b.write(value, at + off, width, 'latin1');
  const fixed = field !== 'chksum' && rng.chance(0.85);
  if (fixed) fixChecksum(b, at);
  return { data: b, how: `tar:${field}@${at}=${JSON.stringify(value.slice(0, 20))}${fixed ? '' : ' (stale checksum)'}` };
}

/** Declares a size far beyond the file (or beyond what a Buffer can hold) with a valid checksum. */
export function hugeDeclaredSize(buf: Buffer, rng: Rng): { data: Buffer; how: string } {
  const b = Buffer.from(buf);
  const heads = tarHeaderOffsets(b);
  const at = rng.pick(heads);
  const v = rng.pick(['77777777777', '40000000000', '17777777777', '7777777777']);
  b.fill(0, at + 124, at + 136);
  b.write(v + '\0', at + 124, 12, 'ascii');
  fixChecksum(b, at);
  return { data: b, how: `tar:size@${at}=${v}` };
}

/** Random bytes, sometimes behind one valid tar header, so both the sniff and the walk are hit. */
export function randomInput(rng: Rng, validHeader: Buffer): { data: Buffer; how: string } {
  const body = rng.bytes(rng.int(4096));
  if (rng.chance(0.5)) return { data: body, how: `random(${body.length})` };
  return { data: Buffer.concat([validHeader, body]), how: `header+random(${body.length})` };
}

// ---- running cases -------------------------------------------------------------------------

export type Outcome = { ok: true } | { ok: false; code: string; message: string };

export class CaseTimeout extends Error {}

/** Runs one case under a time limit; returns ok, a FormatError's code, or rethrows anything else. */
export async function runCase(fn: () => Promise<unknown>, limitMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaseTimeout(`case did not finish within ${limitMs} ms`)), limitMs);
  });
  try {
    await Promise.race([fn(), timeout]);
    return { ok: true };
  } catch (err) {
    if (err instanceof FormatError) return { ok: false, code: err.code, message: err.message };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** A tally of outcomes by code, for the report and for asserting that the fuzzer reached deep. */
export class Tally {
  readonly byCode = new Map<string, number>();
  add(o: Outcome): void {
    const k = o.ok ? 'ok' : o.code;
    this.byCode.set(k, (this.byCode.get(k) ?? 0) + 1);
  }
  toString(): string {
    return [...this.byCode].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`).join(' ');
  }
}

// ---- hostile values ------------------------------------------------------------------------

const NASTY_STRINGS = ['', '\x1b[2J', '\x1b]0;pwned\x07', '\r\n', '\u009b31m', '\u202e', 'A'.repeat(5000), '__proto__', 'constructor', '0', '-1', 'NaN', '../../etc/passwd', '\uffff\ud800'];

/** A value of a random msgpack type (numbers at the edges, control-laden strings, nesting). */
export function hostileValue(rng: Rng, depth = 2): unknown {
  switch (rng.int(depth > 0 ? 12 : 9)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1, 2 ** 31, -(2 ** 31), 2 ** 53, -(2 ** 63), 2 ** 64, 1.5, Number.NaN, Infinity, -Infinity]);
    case 3: return rng.int(1000);
    case 4: return rng.pick(NASTY_STRINGS);
    case 5: return rng.bytes(rng.int(40)).toString('latin1');
    case 6: return rng.bytes(rng.int(40));
    case 7: return undefined;
    case 8: return rng.int(2 ** 31) * 1000;
    case 9: return [...Array(rng.int(4))].map(() => hostileValue(rng, depth - 1));
    case 10: return Object.fromEntries([...Array(rng.int(4))].map(() => [rng.pick(['a', 'pid', 'exitCode', '__proto__', 'toString', 'valueOf', 'Env', 'State', 'Status', 'Config', 'Image', 'x\x1b']), hostileValue(rng, depth - 1)]));
    default: return new Map([[hostileValue(rng, 0), hostileValue(rng, 0)]]);
  }
}

/** An event value shaped like codec.ts's `[kindNum, sourceNum, ...fields]` with hostile parts. */
export function hostileEventValue(rng: Rng): Buffer {
  const kind = rng.chance(0.85) ? 1 + rng.int(12) : rng.pick([0, 13, 99, 127, 128, -1, 2 ** 40]);
  const src = rng.chance(0.8) ? rng.int(6) : hostileValue(rng, 0);
  const fields = [...Array(rng.int(12))].map(() => hostileValue(rng, 2));
  const shape = rng.int(10);
  const v: unknown = shape === 0 ? hostileValue(rng, 2) : shape === 1 ? { 0: kind, 1: src } : [kind, src, ...fields];
  return packAny(v);
}

/** Re-assembles a bundle from (possibly hostile) parts with a manifest whose digests match them. */
export function repackBundle(m: Record<string, unknown>, parts: Map<string, Buffer>): Buffer {
  const list = [...parts].filter(([n]) => n !== 'manifest.json');
  const infos = list.map(([name, data]) => ({ name, size: data.length, sha256: sha256Hex(data) }));
  const { manifestSha256: _digest, ...rest } = { ...m, parts: infos } as Record<string, unknown>;
  const man = encodeManifest(rest as unknown as Omit<Manifest, 'manifestSha256'>);
  return Buffer.concat(tarChunks([{ name: 'manifest.json', data: man }, ...list.map(([name, data]) => ({ name, data }))]));
}
