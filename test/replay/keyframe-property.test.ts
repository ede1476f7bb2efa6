/**
 * Issue 4 acceptance: the state at t computed from a keyframe equals the state computed by
 * replaying from the start, for many t, over stores written by the real pipeline and keyframe
 * writer (synthetic events with out-of-order and very late arrivals).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LevelStore } from '../../formats/level-store.js';
import { loadState, atTime, type Position } from '../../formats/state-load.js';
import { encodeKeyframe } from '../../formats/keyframe.js';
import { P_EVENT, P_KEYFRAME, prefixRange, parseTimeKey, timeRange } from '../../formats/keys.js';
import { scanEvents } from '../../formats/event-scan.js';
import { decodeKeyframeHeader } from '../../formats/keyframe.js';
import { stateJson } from '../../replay/state-json.js';
import { CID_A, CID_B, fixtureStore, rng } from './fixture-events.js';
import { tempDir } from '../helpers/temp-store.js';

let open: LevelStore[] = [];
afterEach(async () => {
  await Promise.all(open.map((kv) => kv.close()));
  open = [];
});

async function keysOf(kv: LevelStore, prefix: number, container: string): Promise<{ pos: Position; value: Uint8Array }[]> {
  const out: { pos: Position; value: Uint8Array }[] = [];
  for await (const chunk of kv.chunks(prefixRange(prefix))) {
    for (const [k, v] of chunk) {
      const p = parseTimeKey(k);
      if (p.container === container) out.push({ pos: { time: p.time, seq: p.seq }, value: v });
    }
  }
  return out;
}

/** Positions of a container's events (not of its entries, which may each hold a block of them). */
async function eventsOf(kv: LevelStore, container: string): Promise<{ pos: Position }[]> {
  const out: { pos: Position }[] = [];
  for await (const chunk of scanEvents(kv, timeRange(P_EVENT, container))) for (const e of chunk) out.push({ pos: { time: e.time, seq: e.seq } });
  return out;
}

/** Compares the two ways of computing the state at `at`; returns whether a keyframe was used. */
export async function sameState(kv: LevelStore, container: string, at: Position): Promise<boolean> {
  const fast = await loadState(kv, container, at);
  const slow = await loadState(kv, container, at, { keyframes: false });
  expect(stateJson(fast.state)).toEqual(stateJson(slow.state));
  expect(encodeKeyframe(fast.state).equals(encodeKeyframe(slow.state))).toBe(true);
  return fast.keyframe !== undefined;
}

describe('state from a keyframe equals state from the start', () => {
  it('holds at every keyframe, around it, and at random times (two containers, jittered times)', async () => {
    const { kv, writer } = await fixtureStore({ count: 6000, seed: 7, containers: [CID_A, CID_B] }, { everyEvents: 150, latenessMicros: 1_000_000 }, await tempDir());
    open.push(kv);
    expect(writer.stats.keyframes).toBeGreaterThan(20);
    for (const cid of [CID_A, CID_B]) {
      const events = await eventsOf(kv, cid);
      const kfs = await keysOf(kv, P_KEYFRAME, cid);
      expect(kfs.length).toBeGreaterThan(10);
      let used = 0;
      for (const kf of kfs.slice(0, 12)) {
        if (await sameState(kv, cid, kf.pos)) used++;
        await sameState(kv, cid, { time: kf.pos.time, seq: kf.pos.seq - 1 });
      }
      const r = rng(3);
      const first = events[0]!.pos.time;
      const last = events[events.length - 1]!.pos.time;
      for (let i = 0; i < 40; i++) {
        if (await sameState(kv, cid, atTime(first + Math.floor(r() * (last - first + 1))))) used++;
        const e = events[Math.floor(r() * events.length)]!;
        await sameState(kv, cid, e.pos);
      }
      await sameState(kv, cid, atTime(last + 1));
      expect(used).toBeGreaterThan(30);
    }
  });

  it('holds when a keyframe folds more log lines than the state keeps (those are not decoded)', async () => {
    // About 220 log lines per 1,000-event keyframe, against the 50 the state keeps.
    const { kv, writer } = await fixtureStore({ count: 8000, seed: 13 }, { everyEvents: 1000, latenessMicros: 1_000_000 }, await tempDir());
    open.push(kv);
    expect(writer.stats.keyframes).toBeGreaterThan(5);
    const kfs = await keysOf(kv, P_KEYFRAME, CID_A);
    let used = 0;
    for (const kf of kfs) if (await sameState(kv, CID_A, kf.pos)) used++;
    expect(used).toBe(kfs.length);
  });

  it('stays exact when events arrive later than the reorder window (keyframes after them are withdrawn)', async () => {
    const { kv, writer } = await fixtureStore({ count: 5000, seed: 11, veryLate: 2 }, { everyEvents: 100, latenessMicros: 500_000 }, await tempDir());
    open.push(kv);
    expect(writer.stats.late).toBeGreaterThan(0);
    expect(writer.stats.withdrawn).toBeGreaterThan(0);
    const kfs = await keysOf(kv, P_KEYFRAME, CID_A);
    expect(kfs.some((k) => !decodeKeyframeHeader(k.value).usable)).toBe(true);
    const events = await eventsOf(kv, CID_A);
    const r = rng(5);
    for (let i = 0; i < 60; i++) await sameState(kv, CID_A, events[Math.floor(r() * events.length)]!.pos);
    for (const kf of kfs) await sameState(kv, CID_A, kf.pos);
  });

  it('stays exact when the writer reads a container back from the store after late events, and keyframes it again', async () => {
    const { kv, writer } = await fixtureStore({ count: 12_000, seed: 11, veryLate: 4 }, { everyEvents: 100, latenessMicros: 400_000 }, await tempDir(), true);
    open.push(kv);
    expect(writer.stats.resyncs).toBeGreaterThan(0);
    expect(writer.stats.withdrawn).toBeGreaterThan(0);
    const kfs = await keysOf(kv, P_KEYFRAME, CID_A);
    const usable = kfs.filter((k) => decodeKeyframeHeader(k.value).usable);
    const events = await eventsOf(kv, CID_A);
    // Keyframes again after the last late event: the container was not given up on.
    const lastWithdrawn = kfs.filter((k) => !decodeKeyframeHeader(k.value).usable).at(-1)!.pos;
    expect(usable.filter((k) => k.pos.time > lastWithdrawn.time).length).toBeGreaterThan(5);
    expect(writer.footprint().keyframeResyncs).toBe(0);
    const r = rng(9);
    for (let i = 0; i < 60; i++) await sameState(kv, CID_A, events[Math.floor(r() * events.length)]!.pos);
    for (const kf of usable) expect(await sameState(kv, CID_A, kf.pos)).toBe(true);
  });
});
