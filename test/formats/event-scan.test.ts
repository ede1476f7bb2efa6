/**
 * Blocks of events (event-block.ts) read back through scanEvents (event-scan.ts): every range,
 * forwards and backwards, with and without a limit, gives exactly the events a one-key-per-event
 * store would give, in (time, seq) order, over stores written in batches with late arrivals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelStore, type LevelStore } from '../../formats/level-store.js';
import { BLOCK_MAX_EVENTS, SPAN_MAX, encodeEntries, entryCount, entrySpan, isBlock, sortEvents, visitEntry, type StoredEvent } from '../../formats/event-block.js';
import { readEvents, scanEvents } from '../../formats/event-scan.js';
import { encodeValue } from '../../formats/codec.js';
import { P_EVENT, cidBytes, timeKey, timeRange } from '../../formats/keys.js';
import type { DashEvent } from '../../formats/schema.js';
import type { KVEntry } from '../../formats/kv.js';
import { tempDir } from '../helpers/temp-store.js';
import { rng } from '../replay/fixture-events.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
let open: LevelStore[] = [];
afterEach(async () => {
  await Promise.all(open.map((kv) => kv.close()));
  open = [];
});

interface Ev { container: string; time: number; seq: number; pid: number }
const value = (e: Ev): Uint8Array => encodeValue({ kind: 'exit', source: 'ebpf', container: e.container, time: e.time, seq: e.seq, pid: e.pid } as DashEvent);

/**
 * Events of two containers arriving in batches, a few of them late (up to 3 x SPAN_MAX, so entries
 * overlap), written the way the pipeline writes: per batch and container, sorted, cut into blocks.
 */
async function store(seed: number, n: number): Promise<{ kv: LevelStore; evs: Ev[] }> {
  const r = rng(seed);
  const kv = await openLevelStore(await tempDir(), { create: true });
  open.push(kv);
  const evs: Ev[] = [];
  let t = 1_000_000_000;
  let seq = 0;
  let batch: Ev[] = [];
  const flush = async (): Promise<void> => {
    const puts: KVEntry[] = [];
    for (const c of [A, B]) {
      const mine = sortEvents(batch.filter((e) => e.container === c)).map((e): StoredEvent => ({ time: e.time, seq: e.seq, value: value(e) }));
      encodeEntries(cidBytes(c), mine, puts);
    }
    await kv.write(puts);
    batch = [];
  };
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * 3000);
    const late = r() < 0.03 ? Math.floor(r() * 3 * SPAN_MAX) : 0;
    // Same-microsecond ties are common (seq breaks them).
    const e = { container: r() < 0.7 ? A : B, time: Math.max(0, t - late), seq: ++seq, pid: i };
    evs.push(e);
    batch.push(e);
    if (r() < 0.02) await flush();
  }
  await flush();
  return { kv, evs };
}

const order = (a: Ev, b: Ev): number => a.time - b.time || a.seq - b.seq;

async function read(kv: LevelStore, gte: Uint8Array, lt: Uint8Array, reverse: boolean, limit?: number): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for await (const chunk of scanEvents(kv, { gte, lt, reverse, ...(limit !== undefined ? { limit } : {}) })) for (const e of chunk) out.push([e.time, e.seq]);
  return out;
}

describe('event blocks', () => {
  it('round-trip positions and values, and say their count and span', () => {
    const cid = cidBytes(A);
    const evs: StoredEvent[] = Array.from({ length: 600 }, (_, i) => ({ time: 5_000 + i * 900, seq: 10 + i * 3, value: value({ container: A, time: 0, seq: 0, pid: i }) }));
    const entries = encodeEntries(cid, evs);
    expect(entries.length).toBeGreaterThan(2);
    const back: StoredEvent[] = [];
    for (const [k, v] of entries) {
      expect(isBlock(v)).toBe(true);
      expect(entryCount(v)).toBeLessThanOrEqual(BLOCK_MAX_EVENTS);
      expect(entrySpan(v)).toBeLessThanOrEqual(SPAN_MAX);
      const n = visitEntry(k, v, (time, seq, buf, off, end) => back.push({ time, seq, value: buf.subarray(off, end) }));
      expect(n).toBe(entryCount(v));
    }
    expect(back.map((e) => [e.time, e.seq])).toEqual(evs.map((e) => [e.time, e.seq]));
    expect(back.every((e, i) => Buffer.compare(e.value, evs[i]!.value) === 0)).toBe(true);
    // One event is stored as its plain value, as FORMAT_VERSION 1 stored every event.
    const [one] = encodeEntries(cid, evs.slice(0, 1));
    expect(one![1]).toBe(evs[0]!.value);
    expect(one![0]).toEqual(timeKey(P_EVENT, cid, 5_000, 10));
  });

  it('reject damage with DECODE: cut short, reordered, a span that lies', () => {
    const cid = cidBytes(A);
    const evs: StoredEvent[] = Array.from({ length: 5 }, (_, i) => ({ time: 100 + i, seq: i + 1, value: value({ container: A, time: 0, seq: 0, pid: i }) }));
    const [[k, v]] = encodeEntries(cid, evs) as [KVEntry];
    const visit = (val: Uint8Array): number => visitEntry(k, val, () => undefined);
    expect(visit(v)).toBe(5);
    const cut = Buffer.from(v.subarray(0, v.length - 3));
    cut[1] = cut.length - 3; // a consistent ext length, so the records themselves run out
    expect(() => visit(cut)).toThrow(expect.objectContaining({ code: 'DECODE' }));
    const lying = Buffer.from(v);
    lying[4] = 9; // span byte (count 5 fits one byte, then the span)
    expect(() => visit(lying)).toThrow(expect.objectContaining({ code: 'DECODE' }));
    const single = Buffer.from(v);
    single[3] = 1; // count 1 is not a block
    expect(() => visit(single)).toThrow(expect.objectContaining({ code: 'DECODE' }));
    // The second event (after [dt, dseq, length, value] of the first) moved onto the first's position.
    const reordered = Buffer.from(v);
    const second = 5 + 3 + v[7]!;
    reordered[second] = 0;
    reordered[second + 1] = 0;
    expect(() => visit(reordered)).toThrow(expect.objectContaining({ code: 'DECODE', message: expect.stringContaining('out of order') }));
  });

  it('a range reads exactly the events whose keys lie in it, in order, both ways, with any limit', async () => {
    for (const seed of [1, 2, 3]) {
      const { kv, evs } = await store(seed, 6000);
      const r = rng(seed + 100);
      for (const c of [A, B]) {
        const mine = evs.filter((e) => e.container === c).sort(order);
        const cid = cidBytes(c);
        const whole = timeRange(P_EVENT, c);
        expect(await read(kv, whole.gte, whole.lt, false)).toEqual(mine.map((e) => [e.time, e.seq]));
        expect(await read(kv, whole.gte, whole.lt, true)).toEqual(mine.map((e) => [e.time, e.seq]).reverse());
        for (let q = 0; q < 40; q++) {
          // Bounds at event positions (as seeks use them) and at arbitrary times.
          const pick = (): [number, number] => {
            const e = mine[Math.floor(r() * mine.length)]!;
            return r() < 0.5 ? [e.time, e.seq] : [e.time + Math.floor(r() * 2000) - 1000, 0];
          };
          let [lo, hi] = [pick(), pick()];
          if (lo[0] > hi[0] || (lo[0] === hi[0] && lo[1] > hi[1])) [lo, hi] = [hi, lo];
          const want = mine.filter((e) => (e.time > lo[0] || (e.time === lo[0] && e.seq >= lo[1])) && (e.time < hi[0] || (e.time === hi[0] && e.seq < hi[1])));
          const gte = timeKey(P_EVENT, cid, Math.max(0, lo[0]), lo[1]);
          const lt = timeKey(P_EVENT, cid, Math.max(0, hi[0]), hi[1]);
          const limit = r() < 0.5 ? Math.floor(r() * 50) + 1 : undefined;
          const fwd = want.map((e) => [e.time, e.seq]);
          const back = [...fwd].reverse();
          expect(await read(kv, gte, lt, false, limit)).toEqual(limit ? fwd.slice(0, limit) : fwd);
          expect(await read(kv, gte, lt, true, limit)).toEqual(limit ? back.slice(0, limit) : back);
        }
      }
    }
  });

  it('decodes what it reads, with the position from the block', async () => {
    const { kv, evs } = await store(9, 2000);
    const got: DashEvent[] = [];
    for await (const chunk of readEvents(kv, timeRange(P_EVENT, B))) got.push(...chunk);
    const want = evs.filter((e) => e.container === B).sort(order);
    expect(got.map((e) => [e.container, e.time, e.seq, e.kind, (e as { pid: number }).pid])).toEqual(want.map((e) => [B, e.time, e.seq, 'exit', e.pid]));
  });
});
