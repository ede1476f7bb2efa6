/**
 * Retention over blocks of events (formats/event-block.ts): an entry goes only when all of it
 * lies before the cut and outside every pin; a block across either boundary stays whole, and the
 * newest entry holding a snapshot stays while events remain.
 */
import { describe, expect, it } from 'vitest';
import { openLevelStore } from '../../formats/level-store.js';
import { P_EVENT, cidBytes, timeOfKey, timeRange } from '../../formats/keys.js';
import { encodeValue } from '../../formats/codec.js';
import { encodeEntries, entryCount, entrySpan, type StoredEvent } from '../../formats/event-block.js';
import { scanEvents } from '../../formats/event-scan.js';
import type { DashEvent } from '../../formats/schema.js';
import type { KVEntry } from '../../formats/kv.js';
import { deleteEvents } from '../../recorder/retention-delete.js';
import { tempDir } from '../helpers/temp-store.js';

const A = 'a3'.repeat(32);
const T0 = 1_700_000_000_000_000;
const MS = 1000;

describe('retention over blocks', () => {
  it('deletes whole entries before the cut and outside pins, keeps the newest snapshot', async () => {
    const kv = await openLevelStore(await tempDir(), { create: true });
    const cid = cidBytes(A);
    const entries: KVEntry[] = [];
    let seq = 0;
    // 10 s of events every 10 ms, written in 200 ms batches as the pipeline would (20 per block).
    for (let b = 0; b < 50; b++) {
      const evs: StoredEvent[] = [];
      for (let i = 0; i < 20; i++) {
        const time = T0 + (b * 20 + i) * 10 * MS;
        const snapshot = b === 7 && i === 3;
        const ev = snapshot
          ? { kind: 'snapshot', source: 'docker', container: A, time, seq: ++seq, reason: 'start', snapshot: { Name: '/a' } }
          : { kind: 'log', source: 'docker', container: A, time, seq: ++seq, stream: 'stdout', line: Buffer.from(`line ${seq}`) };
        evs.push({ time, seq, value: encodeValue(ev as DashEvent) });
      }
      encodeEntries(cid, evs, entries);
    }
    await kv.write(entries);
    expect(entries.length).toBe(50);

    const cut = T0 + 5_005 * MS; // inside the block that starts at 5.0 s
    const pins = [{ from: T0 + 2_003 * MS, to: T0 + 2_500 * MS }];
    const gone = entries.filter(([k, v]) => {
      const first = timeOfKey(k);
      const last = first + entrySpan(v);
      const pinned = last >= pins[0]!.from && first < pins[0]!.to;
      return last < cut && !pinned && first !== T0 + 1_400 * MS; // the block holding the snapshot (batch 7)
    });
    const deleted = await deleteEvents(kv, A, cut, pins, true, () => false);
    expect(deleted.count).toBe(gone.reduce((n, [, v]) => n + entryCount(v), 0));

    const left: number[] = [];
    for await (const chunk of scanEvents(kv, timeRange(P_EVENT, A))) for (const e of chunk) left.push(e.time);
    const goneTimes = new Set<number>();
    for (const [k, v] of gone) for (let i = 0; i < entryCount(v); i++) goneTimes.add(timeOfKey(k) + i * 10 * MS);
    const all = Array.from({ length: 1000 }, (_, i) => T0 + i * 10 * MS);
    expect(left).toEqual(all.filter((t) => !goneTimes.has(t)));
    // Everything at or after the cut and inside the pin is there, with the blocks across their edges.
    expect(left.filter((t) => t >= T0 + 5_000 * MS)).toEqual(all.filter((t) => t >= T0 + 5_000 * MS));
    expect(all.filter((t) => t >= pins[0]!.from && t < pins[0]!.to).every((t) => left.includes(t))).toBe(true);
    expect(left).toContain(T0 + 2_000 * MS); // the pin starts inside the block from 2.0 s
    expect(left).toContain(T0 + 1_430 * MS); // the snapshot's block
    expect(left).not.toContain(T0 + 1_000 * MS);
    await kv.close();
  });
});
