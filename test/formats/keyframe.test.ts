import { describe, expect, it } from 'vitest';
import { decodeKeyframe, decodeKeyframeHeader, encodeKeyframe, withdrawnKeyframe, KEYFRAME_FORMAT } from '../../formats/keyframe.js';
import { emptyState, STATE_VERSION } from '../../formats/state.js';
import { applyEvent } from '../../formats/state-apply.js';
import { decodeValue, encodeValue, pack } from '../../formats/codec.js';
import { fixtureEvents } from '../replay/fixture-events.js';
import type { DashEvent } from '../../formats/schema.js';
import { stateJson } from '../../replay/state-json.js';

describe('keyframe codec', () => {
  it('round-trips a busy state exactly (including the derived pid index)', () => {
    const s = emptyState('a1'.repeat(32));
    let seq = 0;
    const evs = [...fixtureEvents({ count: 3000, seed: 4, jitterMicros: 0 })].map((e) => ({ ...e, seq: ++seq, time: e.time ?? 0 }) as DashEvent);
    for (const ev of evs) applyEvent(s, ev);
    const back = decodeKeyframe(encodeKeyframe(s));
    expect(stateJson(back)).toEqual(stateJson(s));
    expect(encodeKeyframe(back).equals(encodeKeyframe(s))).toBe(true);
    expect([...back.livePid]).toEqual([...s.livePid]);
    expect(s.procs.size).toBeGreaterThan(10);
  });

  it('writes the bytes of pack([format, version, events, pack(body)]) for small, medium and large bodies', () => {
    for (const [count, text] of [[0, 0], [40, 0], [3000, 0], [3000, 70_000]] as const) {
      const s = emptyState('a1'.repeat(32));
      let seq = 0;
      for (const e of fixtureEvents({ count, seed: 9, jitterMicros: 0 })) applyEvent(s, { ...e, seq: ++seq, time: e.time ?? 0 } as DashEvent);
      if (text) s.logs.push({ time: 1, seq: 1, stream: 'stdout', text: 'x'.repeat(text) });
      const v = encodeKeyframe(s);
      const h = decodeKeyframeHeader(v);
      expect(Buffer.from(pack([h.format, h.stateVersion, h.events, h.body])).equals(v)).toBe(true);
      expect(stateJson(decodeKeyframe(v))).toEqual(stateJson(s));
    }
  });

  it('leaves event values packed before and after it intact, and msgpackr\'s shared buffer small', () => {
    const ev = (i: number): DashEvent => ({ kind: 'exit', source: 'ebpf', container: 'b2'.repeat(32), time: 1, seq: i, pid: i, comm: `c${i}` }) as DashEvent;
    const before = Array.from({ length: 300 }, (_, i) => encodeValue(ev(i)));
    const copies = before.map((b) => Buffer.from(b));
    const s = emptyState('a1'.repeat(32));
    s.logs.push({ time: 1, seq: 1, stream: 'stdout', text: 'x'.repeat(200_000) });
    const kf = encodeKeyframe(s);
    expect(kf.length).toBeGreaterThan(200_000);
    const after = encodeValue(ev(999));
    // A map goes through msgpackr's own buffer (codec.ts: fastEncode writes no maps).
    const viaMsgpackr = encodeValue({ kind: 'lifecycle', source: 'docker', container: 'b2'.repeat(32), time: 1, seq: 1000, type: 'container', action: 'die', attributes: { exitCode: '1' } } as DashEvent);
    for (const [i, b] of before.entries()) expect(Buffer.from(b)).toEqual(copies[i]);
    // The next event values are not views of a buffer sized for the keyframe.
    expect(after.buffer.byteLength).toBeLessThanOrEqual(64 * 1024);
    expect(viaMsgpackr.buffer.byteLength).toBeLessThan(64 * 1024);
    expect(decodeValue(after, 1, 999, 'b2'.repeat(32))).toMatchObject({ pid: 999 });
    expect(decodeValue(viaMsgpackr, 1, 1000, 'b2'.repeat(32))).toMatchObject({ attributes: { exitCode: '1' } });
  });

  it('has a cheap header: format, state version, event count', () => {
    const s = emptyState('');
    s.events = 42;
    const h = decodeKeyframeHeader(encodeKeyframe(s));
    expect(h).toMatchObject({ format: KEYFRAME_FORMAT, stateVersion: STATE_VERSION, events: 42, usable: true });
  });

  it('marks withdrawn keyframes and keyframes of another reducer version as unusable', () => {
    expect(decodeKeyframeHeader(withdrawnKeyframe()).usable).toBe(false);
    const other = pack([KEYFRAME_FORMAT, STATE_VERSION + 1, 5, pack([])]);
    expect(decodeKeyframeHeader(other).usable).toBe(false);
    expect(() => decodeKeyframe(other)).toThrow(expect.objectContaining({ code: 'DECODE' }));
    expect(() => decodeKeyframeHeader(pack({ not: 'a keyframe' }))).toThrow(expect.objectContaining({ code: 'DECODE' }));
  });

  it('reads an older, shorter body (fields appended later default)', () => {
    const s = decodeKeyframe(pack([KEYFRAME_FORMAT, STATE_VERSION, 1, pack(['c'.repeat(64), 10, 1, 1, 'running'])]));
    expect(s).toMatchObject({ container: 'c'.repeat(64), time: 10, status: 'running', oomKilled: false, gaps: 0 });
    expect(s.procs.size).toBe(0);
  });
});
