import { afterEach, describe, expect, it } from 'vitest';
import { KeyframeWriter, type ResyncRead } from '../../recorder/keyframes.js';
import { openKeyframeWriter } from '../../recorder/keyframes-store.js';
import { Pipeline } from '../../recorder/pipeline.js';
import { createLogger } from '../../recorder/logger.js';
import { openLevelStore, type LevelStore } from '../../formats/level-store.js';
import { loadState } from '../../formats/state-load.js';
import { getMeta, listContainers } from '../../formats/queries.js';
import { P_KEYFRAME, parseTimeKey, timeRange } from '../../formats/keys.js';
import type { NewEvent } from '../../formats/schema.js';
import { tempDir } from '../helpers/temp-store.js';
import { encodeValue } from '../../formats/codec.js';
import { decodeKeyframe, decodeKeyframeHeader } from '../../formats/keyframe.js';
import { emptyState, type ContainerState } from '../../formats/state.js';
import { applyEvent } from '../../formats/state-apply.js';
import type { KVEntry } from '../../formats/kv.js';
import type { DashEvent } from '../../formats/schema.js';
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

const quiet = createLogger({ quiet: true, write: () => {} });
let open: LevelStore[] = [];
afterEach(async () => {
  await Promise.all(open.map((kv) => kv.close()));
  open = [];
});

/** One recorder run: a pipeline with the writer `make` returns, fed `evs` (as new events), closed. */
async function run(kv: LevelStore, make: (p: Pipeline) => Promise<KeyframeWriter>, evs: NewEvent[]): Promise<KeyframeWriter> {
  const p = await Pipeline.open(kv, { flushMs: 5 }, quiet, (await getMeta<number>(kv, 'seq')) ?? 0);
  const w = await make(p);
  p.addObserver(w.observe);
  p.addSweeper(w.sweep);
  for (const [i, e] of evs.entries()) {
    const { seq: _seq, ...fresh } = e as DashEvent;
    p.emit(fresh);
    if (i % 256 === 255) await p.flush();
  }
  await p.close();
  return w;
}

async function keyframes(kv: LevelStore): Promise<{ time: number; seq: number; value: Uint8Array }[]> {
  const out: { time: number; seq: number; value: Uint8Array }[] = [];
  for await (const chunk of kv.chunks(timeRange(P_KEYFRAME, CID_A))) for (const [k, v] of chunk) out.push({ ...parseTimeKey(k), value: v });
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

  it('after a restart, an event older than the last stored one withdraws the keyframes after it, also those of the earlier run, and keyframing starts again from the store', async () => {
    const kv = await openLevelStore(await tempDir(), { create: true });
    open.push(kv);
    const evs = events();
    const opts = { everyEvents: 50, latenessMicros: 0 };
    await run(kv, async () => new KeyframeWriter(opts), evs.slice(0, 1000));
    const stored = await keyframes(kv);
    // Late: older than the last stored event, and than some keyframes of the first run.
    const late = { ...evs[900]!, time: evs[900]!.time! + 1 };
    const second = await run(kv, async (p) => openKeyframeWriter(kv, await listContainers(kv), opts, p), [late, ...evs.slice(1000)]);
    expect(second.stats.late).toBe(1);
    expect(second.stats.resyncs).toBe(1);
    const after = await keyframes(kv);
    const usable = after.filter((k) => decodeKeyframeHeader(k.value).usable);
    const withdrawn = after.filter((k) => !decodeKeyframeHeader(k.value).usable);
    expect(withdrawn.length).toBeGreaterThan(0);
    expect(withdrawn.every((k) => k.time > late.time!)).toBe(true);
    // The first run's keyframes after the late event are withdrawn; the second run's come after them.
    const first = new Set(stored.map((k) => `${k.time}/${k.seq}`));
    expect(usable.filter((k) => first.has(`${k.time}/${k.seq}`)).every((k) => k.time <= late.time!)).toBe(true);
    expect(second.stats.keyframes).toBeGreaterThan(5);
    expect(usable.filter((k) => !first.has(`${k.time}/${k.seq}`)).length).toBe(second.stats.keyframes);
    // Every keyframe still used is right, with the late event in the store.
    for (const kf of usable) {
      const { livePid, ...got } = decodeKeyframe(kf.value);
      const { livePid: wantPid, ...want } = (await loadState(kv, CID_A, kf, { keyframes: false })).state;
      expect(got).toEqual(want);
      expect(livePid).toEqual(wantPid);
    }
  });
});

const T0 = 1_700_000_000_000_000;
const exec = (time: number, pid = 10): Omit<DashEvent, 'seq'> => ({ kind: 'exec', source: 'ebpf', container: CID_A, time, pid, ppid: 1, uid: 0, exe: '/bin/true', argv: ['/bin/true'] }) as Omit<DashEvent, 'seq'>;

/** Feeds `w` one event at a time as the pipeline would, numbering them; `out` collects its puts. */
function feeder(w: KeyframeWriter): { out: KVEntry[]; send: (e: Omit<DashEvent, 'seq'>) => DashEvent } {
  const out: KVEntry[] = [];
  let seq = 0;
  const send = (e: Omit<DashEvent, 'seq'>): DashEvent => {
    const ev = { ...e, seq: ++seq } as DashEvent;
    w.observe(ev, out, encodeValue(ev));
    return ev;
  };
  return { out, send };
}

describe('KeyframeWriter, a container that ended', () => {
  it('withdraws its last keyframes for an event that comes after its destroy was folded, instead of keyframing it from an empty state; forgets it once past the widest window', () => {
    const t0 = T0;
    const w = new KeyframeWriter({ everyEvents: 10, latenessMicros: 100_000, maxLatenessMicros: 5_000_000 });
    const { out, send: feedOne } = feeder(w);
    for (let i = 0; i < 25; i++) feedOne(exec(t0 + i * 1000));
    const destroy = feedOne({ kind: 'lifecycle', source: 'docker', container: CID_A, time: t0 + 30_000, type: 'container', action: 'destroy', attributes: {} } as Omit<DashEvent, 'seq'>);
    w.sweep(out, t0 + 1_000_000);
    expect(parseTimeKey(out.at(-1)![0])).toMatchObject({ time: destroy.time, seq: destroy.seq });
    expect(out.every(([, v]) => decodeKeyframeHeader(v).usable)).toBe(true);
    expect(w.footprint()).toMatchObject({ keyframeTracks: 0, keyframeEnded: 1 });
    // A kernel event of the container, held until now, from before its last keyframes.
    const kept = out.filter(([k]) => parseTimeKey(k).time < t0 + 15_500).length;
    out.length = 0;
    const straggler = feedOne(exec(t0 + 15_500));
    w.sweep(out, t0 + 2_000_000);
    expect(out.length).toBeGreaterThan(0);
    for (const [k, v] of out) {
      expect(decodeKeyframeHeader(v).usable).toBe(false);
      expect(parseTimeKey(k).time).toBeGreaterThan(straggler.time);
    }
    expect(kept).toBeGreaterThan(0);
    expect(w.footprint()).toMatchObject({ keyframeTracks: 0, keyframeEnded: 1 });
    expect(w.stats.late).toBe(1);
    w.sweep(out, t0 + 4_000_000);
    expect(w.footprint()).toMatchObject({ keyframeEnded: 1 });
    w.sweep(out, t0 + 6_000_000);
    expect(w.footprint()).toMatchObject({ keyframeEnded: 0 });
  });
});

describe('KeyframeWriter, a destroy among released events', () => {
  it('ends the track with a last keyframe when the destroy sorts before events already released', () => {
    const t0 = T0;
    const w = new KeyframeWriter({ everyEvents: 1000, latenessMicros: 100_000 });
    const { out, send } = feeder(w);
    for (let i = 0; i < 30; i++) send({ kind: 'stats', source: 'docker', container: CID_A, time: t0 + i * 10_000, cpuPercent: 1, memUsage: 1, memLimit: 2, pids: 1 } as Omit<DashEvent, 'seq'>);
    // Released up to t0 + 190 ms; none folded yet (a keyframe every 1,000 events).
    expect(w.stats.keyframes).toBe(1);
    const destroy = send({ kind: 'lifecycle', source: 'docker', container: CID_A, time: t0 + 150_500, type: 'container', action: 'destroy', attributes: {} } as Omit<DashEvent, 'seq'>);
    expect(w.footprint()).toMatchObject({ keyframeTracks: 0, keyframeEnded: 1 });
    expect(w.stats.keyframes).toBe(2);
    expect(parseTimeKey(out.at(-1)![0]).time).toBeGreaterThan(destroy.time);
  });
});

describe('KeyframeWriter, resync', () => {
  it('reads again, from before it, when an event seen during the read is older than the keyframe the read found', async () => {
    const t0 = T0;
    const reads: { late: { time: number; seq: number }; done: (r: ResyncRead) => void }[] = [];
    const withdrawn: [number, number][] = [];
    const w = new KeyframeWriter(
      { everyEvents: 10, latenessMicros: 1000 },
      [],
      [],
      (_id, after) => withdrawn.push([after.time, after.seq]),
      (_id, late) => new Promise<ResyncRead>((done) => reads.push({ late, done })),
    );
    const feed = feeder(w);
    const all: DashEvent[] = [];
    const send = (time: number): DashEvent => {
      const ev = feed.send(exec(time));
      all.push(ev);
      return ev;
    };
    for (let i = 0; i < 40; i++) send(t0 + i * 1000);
    expect(w.stats.keyframes).toBeGreaterThan(2);
    const late1 = send(t0 + 20_500);
    expect(reads.map((r) => r.late)).toEqual([{ time: late1.time, seq: late1.seq }]);
    // Seen while the store is read: one newer (kept), one older than the keyframe the read finds.
    send(t0 + 41_000);
    const late2 = send(t0 + 5_500);
    const kfPos = { time: t0 + 10_000, seq: 11 };
    const stored = all.filter((e) => e.seq <= late1.seq && (e.time > kfPos.time || (e.time === kfPos.time && e.seq > kfPos.seq)));
    reads[0]!.done({ keyframe: { pos: kfPos, state: emptyState(CID_A) }, events: stored.map((e) => ({ time: e.time, seq: e.seq, value: encodeValue(e) })), upTo: late1.seq });
    await new Promise((r) => setImmediate(r));
    expect(reads.map((r) => r.late)).toEqual([{ time: late1.time, seq: late1.seq }, { time: late2.time, seq: late2.seq }]);
    expect(withdrawn).toEqual([[late2.time, late2.seq]]);
    expect(w.footprint()).toMatchObject({ keyframeResyncs: 1, keyframeTracks: 0 });
    // The second read finds no keyframe before it: the container starts over from its first event.
    reads[1]!.done({ events: all.filter((e) => e.seq <= late2.seq).map((e) => ({ time: e.time, seq: e.seq, value: encodeValue(e) })), upTo: late2.seq });
    await new Promise((r) => setImmediate(r));
    expect(w.footprint()).toMatchObject({ keyframeResyncs: 0, keyframeTracks: 1 });
    expect(w.stats).toMatchObject({ late: 2, resyncs: 2 });
  });
});

describe('KeyframeWriter, a container always too late', () => {
  it('is read back at most 16 times a run, then gets no more keyframes (as without a store)', async () => {
    let reads = 0;
    const w = new KeyframeWriter({ everyEvents: 5, latenessMicros: 1000 }, [], [], undefined, async (_id, late) => {
      reads++;
      return { events: [], upTo: late.seq };
    });
    const { send } = feeder(w);
    let now = T0;
    for (let round = 0; round < 120; round++) {
      for (let i = 0; i < 20; i++) send(exec((now += 100_000)));
      // Later than the widest window (10 s), every round.
      send(exec(now - 15_000_000, 11));
      await new Promise((r) => setImmediate(r));
    }
    expect(reads).toBe(16);
    expect(w.stats.resyncs).toBe(16);
    expect(w.footprint()).toMatchObject({ keyframeTracks: 0, keyframeResyncs: 0, keyframeSkip: 1 });
  });
});
