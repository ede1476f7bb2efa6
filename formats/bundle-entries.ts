/**
 * The events part of a bundle: store entries (`e|`, `i|`, `k|`) as length-prefixed pairs
 * `[u32 BE key length][key][u32 BE value length][value]`, in key order, then compressed. Event
 * entries are the store's own event values, grouped into blocks again for the window (an export
 * cuts the store's blocks at its edges; event-block.ts); keyframes and incidents are the store's
 * entries unchanged. Keeping the store's bytes means a bundle replays exactly like the store it
 * came from and imports back without translation.
 */
import { FormatError } from './errors.js';
import { EVENT_KEY_BYTES, P_EVENT, P_INCIDENT, P_KEYFRAME } from './keys.js';
import type { KVEntry } from './kv.js';

/** Packs a chunk of entries into one buffer (one allocation per chunk, not per entry). */
export function packEntries(entries: readonly KVEntry[]): Buffer {
  let size = 0;
  for (const [k, v] of entries) size += 8 + k.length + v.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const [k, v] of entries) {
    out.writeUInt32BE(k.length, off);
    out.set(k, off + 4);
    off += 4 + k.length;
    out.writeUInt32BE(v.length, off);
    out.set(v, off + 4);
    off += 4 + v.length;
  }
  return out;
}

export interface EntryIndex {
  /** Offset of each entry's key in the buffer; its length is the u32 just before it. */
  keyAt: Uint32Array;
  count: number;
}

const bad = (msg: string): FormatError => new FormatError('BUNDLE_CORRUPT', `corrupt bundle: events part: ${msg}`);

/**
 * Indexes a decompressed events part and checks its structure: every length in bounds, only
 * event, keyframe and incident keys, strictly increasing key order (so range reads are binary
 * searches and no key appears twice). `visit` sees each entry (for counts) without allocating.
 */
export function indexEntries(buf: Buffer, visit?: (prefix: number, buf: Buffer, keyAt: number, keyLen: number, valAt: number, valLen: number) => void): EntryIndex {
  let keyAt = new Uint32Array(1024);
  let n = 0;
  let off = 0;
  let prevAt = -1;
  let prevLen = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) throw bad('ends inside a key length');
    const kl = buf.readUInt32BE(off);
    const ka = off + 4;
    if (kl === 0 || ka + kl + 4 > buf.length) throw bad(`key length ${kl} out of bounds at byte ${off}`);
    const vl = buf.readUInt32BE(ka + kl);
    const va = ka + kl + 4;
    if (va + vl > buf.length) throw bad(`value length ${vl} out of bounds at byte ${ka + kl}`);
    const p = buf[ka]!;
    if (p === P_EVENT || p === P_KEYFRAME) {
      if (kl !== EVENT_KEY_BYTES) throw bad(`bad ${String.fromCharCode(p)}| key length ${kl}`);
    } else if (p !== P_INCIDENT) {
      throw bad(`unexpected key prefix 0x${p.toString(16)}`);
    }
    // compare(target=previous key, source=this key): this must sort strictly after the previous one.
    if (prevAt >= 0 && buf.compare(buf, prevAt, prevAt + prevLen, ka, ka + kl) <= 0) throw bad('keys out of order or repeated');
    if (n === keyAt.length) {
      const grown = new Uint32Array(keyAt.length * 2);
      grown.set(keyAt);
      keyAt = grown;
    }
    keyAt[n++] = ka;
    visit?.(p, buf, ka, kl, va, vl);
    prevAt = ka;
    prevLen = kl;
    off = va + vl;
  }
  return { keyAt: keyAt.subarray(0, n), count: n };
}
