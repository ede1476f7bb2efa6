/**
 * Binary key layout of the store. One byte of prefix, then fields in big-endian so that
 * LevelDB's bytewise order is container, then time, then sequence: one container's window is one
 * range read. Container IDs are stored as their 32 raw bytes in event keys (half the hex size).
 *
 *   e | cid(32) | time µs (8) | seq (8)     → event value (codec.ts)
 *   k | cid(32) | time µs (8) | seq (8)     → state keyframe (state-codec)
 *   c | hex id (64 ascii)                   → container record
 *   n | name (utf8) | 0x00 | hex id (64)    → '' (name index)
 *   i | time µs (8) | incident id (ascii)   → incident record
 *   m | name (ascii)                        → store metadata
 */
import { FormatError } from './errors.js';

export const P_EVENT = 0x65; // 'e'
export const P_KEYFRAME = 0x6b; // 'k'
export const P_CONTAINER = 0x63; // 'c'
export const P_NAME = 0x6e; // 'n'
export const P_INCIDENT = 0x69; // 'i'
export const P_META = 0x6d; // 'm'

export const CID_BYTES = 32;
export const EVENT_KEY_BYTES = 1 + CID_BYTES + 8 + 8;
const HOST_CID = new Uint8Array(CID_BYTES);
const TWO32 = 0x1_0000_0000;

/** Hex container ID ('' for the host) → 32 raw bytes. */
export function cidBytes(container: string): Uint8Array {
  if (container === '') return HOST_CID;
  if (container.length !== 64) throw new FormatError('BAD_ARGUMENT', `not a full container ID: ${JSON.stringify(container)}`);
  const b = Buffer.from(container, 'hex');
  if (b.length !== CID_BYTES) throw new FormatError('BAD_ARGUMENT', `not a hex container ID: ${JSON.stringify(container)}`);
  return b;
}

export function cidFromBytes(b: Uint8Array, offset = 1): string {
  let zero = true;
  for (let i = offset; i < offset + CID_BYTES; i++) if (b[i] !== 0) { zero = false; break; }
  return zero ? '' : Buffer.from(b.buffer, b.byteOffset + offset, CID_BYTES).toString('hex');
}

function writeU64(buf: Buffer, n: number, at: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO32), at);
  buf.writeUInt32BE(n % TWO32 >>> 0, at + 4);
}
function readU64(b: Uint8Array, at: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(at) * TWO32 + v.getUint32(at + 4);
}

/** Key of an event or keyframe. `cid` from cidBytes(); time and seq non-negative integers. */
export function timeKey(prefix: number, cid: Uint8Array, time: number, seq: number): Buffer {
  const k = Buffer.allocUnsafe(EVENT_KEY_BYTES);
  k[0] = prefix;
  k.set(cid, 1);
  writeU64(k, Math.max(0, Math.floor(time)), 1 + CID_BYTES);
  writeU64(k, seq, 1 + CID_BYTES + 8);
  return k;
}

export interface TimeKeyParts { container: string; time: number; seq: number }
export function parseTimeKey(k: Uint8Array): TimeKeyParts {
  if (k.length !== EVENT_KEY_BYTES) throw new FormatError('STORE_CORRUPT', `bad key length ${k.length}`);
  return { container: cidFromBytes(k), time: readU64(k, 1 + CID_BYTES), seq: readU64(k, 1 + CID_BYTES + 8) };
}
export function timeOfKey(k: Uint8Array): number {
  return readU64(k, 1 + CID_BYTES);
}

/** Range bounds [gte, lt) covering one container's events (or keyframes) in [from, to). */
export function timeRange(prefix: number, container: string, from = 0, to = Number.MAX_SAFE_INTEGER): { gte: Buffer; lt: Buffer } {
  const cid = cidBytes(container);
  return { gte: timeKey(prefix, cid, from, 0), lt: timeKey(prefix, cid, to, 0) };
}

function asciiKey(prefix: number, s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const k = Buffer.allocUnsafe(1 + body.length);
  k[0] = prefix;
  body.copy(k, 1);
  return k;
}
export const containerKey = (id: string): Buffer => asciiKey(P_CONTAINER, id);
export const metaKey = (name: string): Buffer => asciiKey(P_META, name);
export function nameKey(name: string, id: string): Buffer {
  return Buffer.concat([asciiKey(P_NAME, name), Buffer.from([0]), Buffer.from(id, 'ascii')]);
}
/** Range over every key starting with prefix byte + `s`. */
export function prefixRange(prefix: number, s = ''): { gte: Buffer; lt: Buffer } {
  const gte = asciiKey(prefix, s);
  // Binary keys (events, keyframes) may continue with 0xff bytes: bound by the next prefix byte.
  const lt = s === '' ? Buffer.from([prefix + 1]) : Buffer.concat([gte, Buffer.from([0xff])]);
  return { gte, lt };
}
export function incidentKey(time: number, id: string): Buffer {
  const k = Buffer.alloc(9 + id.length);
  k[0] = P_INCIDENT;
  writeU64(k, Math.max(0, Math.floor(time)), 1);
  k.write(id, 9, 'ascii');
  return k;
}
