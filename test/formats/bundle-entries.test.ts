import { describe, expect, it } from 'vitest';
import { indexEntries, packEntries } from '../../formats/bundle-entries.js';
import { kindNumAt } from '../../formats/codec.js';
import { P_EVENT, P_KEYFRAME, cidBytes, containerKey, incidentKey, timeKey } from '../../formats/keys.js';
import { encodeValue } from '../../formats/codec.js';
import { KINDS, type DashEvent } from '../../formats/schema.js';
import type { KVEntry } from '../../formats/kv.js';

const cid = cidBytes('c'.repeat(64));
const ev = (kind: 'gap' | 'stats'): Buffer => encodeValue({ time: 1, seq: 1, container: '', source: 'dashcam', kind, reason: 'x' } as DashEvent);

describe('bundle entries', () => {
  const entries: KVEntry[] = [
    [timeKey(P_EVENT, cid, 10, 1), ev('gap')],
    [timeKey(P_EVENT, cid, 10, 2), ev('stats')],
    [incidentKey(5, 'abc'), Buffer.from([0x80])],
    [timeKey(P_KEYFRAME, cid, 3, 9), Buffer.alloc(0)],
  ];

  it('packs and indexes entries in key order', () => {
    const buf = packEntries(entries);
    const seen: number[] = [];
    const { keyAt, count } = indexEntries(buf, (p) => void seen.push(p));
    expect(count).toBe(4);
    expect(seen).toEqual([P_EVENT, P_EVENT, 0x69, P_KEYFRAME]);
    expect(Buffer.compare(buf.subarray(keyAt[2]!, keyAt[2]! + entries[2]![0].length), entries[2]![0])).toBe(0);
  });

  it('refuses unordered, repeated, foreign or cut entries', () => {
    const bad = (e: KVEntry[] | Buffer): string | undefined => { try { indexEntries(Buffer.isBuffer(e) ? e : packEntries(e)); return undefined; } catch (x) { return (x as { code: string }).code; } };
    expect(bad([entries[1]!, entries[0]!])).toBe('BUNDLE_CORRUPT');
    expect(bad([entries[0]!, entries[0]!])).toBe('BUNDLE_CORRUPT');
    expect(bad([[containerKey('c'.repeat(64)), Buffer.alloc(1)]])).toBe('BUNDLE_CORRUPT');
    expect(bad([[Buffer.from([P_EVENT, 1, 2]), Buffer.alloc(1)]])).toBe('BUNDLE_CORRUPT');
    const buf = packEntries(entries);
    for (let cut = 1; cut < buf.length; cut += 3) {
      const r = bad(buf.subarray(0, cut));
      // A cut that falls exactly between entries leaves a shorter but valid list.
      if (r !== undefined) expect(r).toBe('BUNDLE_CORRUPT');
    }
    expect(bad(buf.subarray(0, buf.length - 1))).toBe('BUNDLE_CORRUPT');
  });

  it('reads the kind number of an encoded value without decoding it', () => {
    expect(kindNumAt(ev('gap'), 0)).toBe(KINDS.gap.num);
    expect(kindNumAt(ev('stats'), 0)).toBe(KINDS.stats.num);
    expect(kindNumAt(Buffer.from([0x80]), 0)).toBe(-1);
    expect(kindNumAt(Buffer.alloc(0), 0)).toBe(-1);
  });
});
