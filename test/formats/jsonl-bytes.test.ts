/**
 * JsonLinesWriter writes JSON Lines from stored bytes; it must give exactly the bytes of
 * `toJsonLine(decodeRaw(r))` for every value, and fail exactly as decodeRaw fails on damage.
 */
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { JsonLinesWriter, plannedKinds } from '../../formats/jsonl-bytes.js';
import { toJsonLine } from '../../formats/jsonl.js';
import { encodeValue } from '../../formats/codec.js';
import { RawEvent, decodeRaw } from '../../formats/event-scan.js';
import { KINDS, SOURCES, type DashEvent, type KindSpec } from '../../formats/schema.js';
import { Activity, logLine, mixedEvents, rng } from '../../bench/synthetic.js';
import { hostileEvents, odd } from './hostile-events.js';

const C = 'cd'.repeat(32);
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, variableMapSize: true });

/** The value inside a larger buffer (as in a block), so offsets are exercised. */
function raw(value: Uint8Array, time: number, seq: number, container = C): RawEvent {
  const buf = Buffer.concat([Buffer.from([0xc1, 0xc1, 0xc1]), value, Buffer.from([0x92, 0xc1])]);
  return new RawEvent(container, time, seq, buf, 3, 3 + value.length);
}

/** Both paths for one event: the same line, or the same error. */
function same(r: RawEvent): void {
  let want: string | Error;
  try {
    want = `${toJsonLine(decodeRaw(r))}\n`;
  } catch (err) {
    want = err as Error;
  }
  const w = new JsonLinesWriter();
  if (want instanceof Error) {
    expect(() => w.add(r)).toThrow(expect.objectContaining({ code: (want as { code?: string }).code, message: want.message }));
    return;
  }
  w.add(r);
  expect(w.take().toString('utf8')).toBe(want);
}

describe('JsonLinesWriter', () => {
  it('plans the kinds the object path plans', () => {
    expect(plannedKinds().sort()).toEqual((Object.values(KINDS) as KindSpec[]).map((k) => k.name).sort());
  });

  it('gives the object path\'s bytes for a realistic mix and for hostile text, many lines per buffer', () => {
    const r = rng(4);
    const act = new Activity();
    const evs: DashEvent[] = [];
    let seq = 0;
    for (const e of mixedEvents(5_000, 1_700_000_000_000_000)) evs.push({ ...e, seq: ++seq } as DashEvent);
    for (let i = 0; i < 5_000; i++) evs.push({ ...act.event(r, C, 1_700_000_100_000_000 + i, i), seq: ++seq } as DashEvent);
    for (let i = 0; i < 500; i++) evs.push({ kind: 'log', source: 'docker', container: C, time: 1_700_000_200_000_000 + i, seq: ++seq, stream: 'stdout', line: Buffer.from(logLine(r, i)), engineTime: 1_700_000_200_000_000 + i } as DashEvent);
    const lines = (list: DashEvent[]): { w: JsonLinesWriter; got: string; want: string } => {
      const w = new JsonLinesWriter();
      let want = '';
      for (const ev of list) {
        const rv = raw(encodeValue(ev), ev.time, ev.seq, ev.container);
        w.add(rv);
        want += `${toJsonLine(decodeRaw(rv))}\n`;
      }
      return { w, got: w.take().toString('utf8'), want };
    };
    const real = lines(evs);
    expect(real.got).toBe(real.want);
    // What the recorder writes never needs the object path.
    expect(real.w.fallbacks).toBe(0);
    const hostile = lines([...hostileEvents()]);
    expect(hostile.got).toBe(hostile.want);
  });

  it('gives the same bytes or the same error for values of random shapes and types', () => {
    const r = rng(21);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const scalars = (): unknown => pick([
      null, true, false, 0, 1, -1, 127, 128, -33, 255, 256, 65_535, 65_536, -32_769, 2 ** 31, -(2 ** 31), 2 ** 32 + 1, 2 ** 53 - 1, -(2 ** 53), 1.5, -0.25, 1e21, Number.NaN, Infinity,
      1_700_000_000_123_456, 4e15 + 1, ...odd, 'x'.repeat(40), 'y'.repeat(300), 'z'.repeat(70_000),
      Buffer.from('bytes'), Buffer.from([0xff, 0x00, 0x22, 0x5c]), Buffer.from('é'), Buffer.alloc(70_000, 0x41),
      ['a', 'b'], [], ['a', 1], [['nested']], { a: 'b' }, { n: 1 },
    ]);
    for (let i = 0; i < 30_000; i++) {
      const spec = pick(Object.values(KINDS) as KindSpec[]);
      const n = Math.floor(r() * (spec.fields.length + 3));
      const arr: unknown[] = [r() < 0.97 ? spec.num : pick([0, 99, -1, 'exec', 1.5]), r() < 0.95 ? Math.floor(r() * SOURCES.length) : pick([99, -1, 'docker', null])];
      for (let f = 0; f < n; f++) arr.push(scalars());
      const time = r() < 0.9 ? 1_700_000_000_000_000 + i : pick([0, 4e15, 4e15 + 1, 2 ** 53 - 1]);
      same(raw(packr.pack(arr), time, r() < 0.99 ? i + 1 : 2 ** 60));
    }
  });

  it('fails as decodeRaw fails on damaged values: flipped bytes, cut short, trailing bytes', () => {
    const r = rng(8);
    const act = new Activity();
    for (let i = 0; i < 20_000; i++) {
      const ev = { ...act.event(r, C, 1_700_000_000_000_000 + i, i), seq: i + 1 } as DashEvent;
      const v = Buffer.from(encodeValue(ev));
      const x = r();
      let bad: Buffer;
      if (x < 0.6) {
        bad = Buffer.from(v);
        bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
      } else if (x < 0.8) bad = v.subarray(0, Math.floor(r() * v.length));
      else bad = Buffer.concat([v, Buffer.from([Math.floor(r() * 256)])]);
      same(raw(bad, ev.time, ev.seq));
    }
  });
});
