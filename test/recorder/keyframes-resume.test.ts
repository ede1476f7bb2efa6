import { describe, expect, it } from 'vitest';
import { KeyframeWriter } from '../../recorder/keyframes.js';
import { encodeValue } from '../../formats/codec.js';
import { decodeKeyframe } from '../../formats/keyframe.js';
import { emptyState, type ContainerState } from '../../formats/state.js';
import { applyEvent } from '../../formats/state-apply.js';
import type { KVEntry } from '../../formats/kv.js';
import type { DashEvent } from '../../formats/schema.js';
import { parseTimeKey } from '../../formats/keys.js';
import { CID_A, fixtureEvents } from '../replay/fixture-events.js';

/** The fixture's events for one container, in store order, with seqs. */
function events(): DashEvent[] {
  let seq = 0;
  const evs = [...fixtureEvents({ count: 3000, seed: 5, jitterMicros: 0 })].map((e) => ({ ...e, seq: ++seq }) as DashEvent);
  return evs.filter((e) => e.container === CID_A).sort((a, b) => a.time - b.time || a.seq - b.seq);
}

function fold(evs: DashEvent[], upto: number): ContainerState {
  const s = emptyState(CID_A);
  for (const e of evs.slice(0, upto)) applyEvent(s, e);
  return s;
}

/** Feeds `evs` to `w` as the pipeline would, then releases everything; returns what it wrote. */
function feed(w: KeyframeWriter, evs: DashEvent[]): KVEntry[] {
  const out: KVEntry[] = [];
  for (const e of evs) w.observe(e, out, encodeValue(e));
  w.sweep(out, Number.MAX_SAFE_INTEGER);
  return out;
}

describe('KeyframeWriter', () => {
  it('writes, after a restart, keyframes equal to a replay from the first event', () => {
    const evs = events();
    const k = 1234;
    const w = new KeyframeWriter({ everyEvents: 100, latenessMicros: 0 }, [fold(evs, k)]);
    const out = feed(w, evs.slice(k));
    expect(out.length).toBeGreaterThan(10);
    for (const [key, value] of out) {
      const { time, seq } = parseTimeKey(key);
      const upto = evs.findIndex((e) => e.time === time && e.seq === seq) + 1;
      expect(upto).toBeGreaterThan(k);
      const { livePid, ...got } = decodeKeyframe(value);
      const { livePid: wantPid, ...want } = fold(evs, upto);
      expect(got).toEqual(want);
      expect(livePid).toEqual(wantPid);
    }
  });
});
