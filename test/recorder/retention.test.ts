/**
 * A retention pass over a real LevelDB store (no recorder): age, pins, keyframes, snapshots,
 * records of removed containers, the pinned-bytes cap and the size budget with fair shares.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openLevelStore, type LevelStore } from '../../formats/level-store.js';
import { P_EVENT, P_KEYFRAME, cidBytes, containerKey, incidentKey, metaKey, nameKey, prefixRange, timeKey, timeRange, timeOfKey, P_NAME } from '../../formats/keys.js';
import { encodeValue, pack } from '../../formats/codec.js';
import { nowMicros } from '../../formats/time.js';
import { listContainers, listImports, listIncidents } from '../../formats/queries.js';
import type { ContainerRecord, IncidentRecord } from '../../formats/records.js';
import type { DashEvent } from '../../formats/schema.js';
import type { KVEntry } from '../../formats/kv.js';
import { Retention, RETENTION_DEFAULTS, type RetentionOptions } from '../../recorder/retention.js';
import { storeBytes } from '../../recorder/retention-store.js';
import { atTime, loadState } from '../../formats/state-load.js';
import { createLogger } from '../../recorder/logger.js';
import { tempDir } from '../helpers/temp-store.js';

const A = 'a1'.repeat(32);
const B = 'b2'.repeat(32);
const S = 1e6;
let seq = 0;

function ev(container: string, time: number, kind: 'log' | 'snapshot' = 'log', line = 'x'): KVEntry {
  const e = kind === 'snapshot'
    ? { kind, source: 'docker', container, time, seq: ++seq, reason: 'start', snapshot: { Name: '/a' } }
    : { kind, source: 'docker', container, time, seq: ++seq, stream: 'stdout', line: Buffer.from(line) };
  return [timeKey(P_EVENT, cidBytes(container), time, e.seq), encodeValue(e as DashEvent)];
}
const rec = (id: string, name: string, extra: Partial<ContainerRecord> = {}): KVEntry =>
  [containerKey(id), pack({ id, name, names: [name], image: 'busybox', firstSeen: 0, lastSeen: 0, state: 'running', events: 0, bytes: 0, ...extra })];
const incident = (id: string, container: string, time: number, before: number, after: number, pinUntil: number): IncidentRecord =>
  ({ id, time, container, trigger: 'exit', severity: 'medium', title: 't', windowStart: time - before, windowEnd: time + after, pinUntil });

async function keys(kv: LevelStore, range: { gte: Uint8Array; lt: Uint8Array }): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of kv.chunks(range)) for (const [k] of chunk) out.push(k);
  return out;
}
const times = async (kv: LevelStore, prefix: number, c: string, now: number): Promise<number[]> =>
  (await keys(kv, timeRange(prefix, c))).map((k) => Math.round((timeOfKey(k) - now) / S));
const quiet = createLogger({ quiet: true, write: () => {} });
const retention = (kv: LevelStore, o: Partial<RetentionOptions>): Retention => new Retention(kv, { ...RETENTION_DEFAULTS, ...o }, quiet);

describe('retention pass', () => {
  it('drops old events but keeps pinned windows, the last snapshot and exact seeks; removed containers go entirely', async () => {
    const kv = await openLevelStore(await tempDir(), { create: true });
    const now = nowMicros();
    const puts: KVEntry[] = [rec(A, 'ay'), rec(B, 'bee', { removed: true, state: 'removed' }), [nameKey('bee', B), new Uint8Array(0)]];
    for (let s = 100; s >= 1; s--) puts.push(ev(A, now - s * S));
    puts.push(ev(A, now - 90 * S - 5, 'snapshot'), ev(A, now - 99 * S - 5, 'snapshot'));
    for (const s of [95, 70, 45, 20]) puts.push([timeKey(P_KEYFRAME, cidBytes(A), now - s * S, 1), Buffer.from('kf')]);
    for (let s = 80; s >= 70; s--) puts.push(ev(B, now - s * S));
    const pin = incident('pin0000000a', A, now - 55 * S, 5 * S, 5 * S, now + 3600 * S);
    const expired = incident('old0000000a', A, now - 98 * S, S, S, now - S);
    puts.push([incidentKey(pin.time, pin.id), pack(pin)], [incidentKey(expired.time, expired.id), pack(expired)]);
    await kv.write(puts);
    // The state a seek reconstructs, before the pass (the fake keyframes above are unusable, so
    // this is every event applied from the start).
    const seek = async (t: number): Promise<unknown> => (await loadState(kv, A, atTime(t))).state;
    const [atNow, inPin] = [await seek(now), await seek(now - 55 * S)];

    const r = await retention(kv, { retain: 30 * S }).pass();
    const left = await times(kv, P_EVENT, A, now);
    expect(left).toEqual([-90, ...Array.from({ length: 11 }, (_, i) => -60 + i), ...Array.from({ length: 29 }, (_, i) => -29 + i)]);
    // Old keyframes went; fresh ones sit just before the pin and just before the cut, so seeks
    // into what is left give exactly the state they gave before the pass.
    expect(await times(kv, P_KEYFRAME, A, now)).toEqual([-60, -30, -20]);
    expect(await seek(now)).toEqual(atNow);
    expect(await seek(now - 55 * S)).toEqual(inPin);
    expect((await loadState(kv, A, atTime(now))).keyframe?.time).toBeGreaterThan(now - 31 * S);
    expect(await keys(kv, timeRange(P_EVENT, B))).toEqual([]);
    expect(await kv.get(containerKey(B))).toBeUndefined();
    expect(await keys(kv, prefixRange(P_NAME, 'bee'))).toEqual([]);
    expect(await kv.get(containerKey(A))).toBeDefined();
    expect((await listIncidents(kv)).map((i) => i.id)).toEqual(['pin0000000a']);
    expect(r).toMatchObject({ deletedContainers: 1, deletedIncidents: 1, deletedKeyframes: 3 });
    expect(r.horizon).toBe(now - 90 * S - 5);
    await kv.close();
  });

  it('over the pinned-bytes cap, the oldest pin goes first and is marked unpinned', async () => {
    const kv = await openLevelStore(await tempDir(), { create: true });
    const now = nowMicros();
    const puts: KVEntry[] = [rec(A, 'ay')];
    for (let s = 200; s >= 1; s--) puts.push(ev(A, now - s * S, 'log', 'y'.repeat(1000)));
    const older = incident('pin0000000a', A, now - 150 * S, 10 * S, 10 * S, now + 3600 * S);
    const newer = incident('pin0000000b', A, now - 100 * S, 10 * S, 10 * S, now + 3600 * S);
    for (const p of [older, newer]) puts.push([incidentKey(p.time, p.id), pack(p)]);
    await kv.write(puts);
    const ret = retention(kv, { retain: 30 * S, pinMax: 30_000 });
    const r = await ret.pass();
    expect(r.unpinned).toEqual(['pin0000000a']);
    const recs = await listIncidents(kv);
    expect(recs.find((i) => i.id === 'pin0000000a')?.unpinned).toBeGreaterThan(0);
    const left = await times(kv, P_EVENT, A, now);
    expect(left.filter((s) => s < -30)).toEqual(Array.from({ length: 21 }, (_, i) => -110 + i));
    expect(ret.pinned.windows).toBe(1);
    await kv.close();
  });

  it('keeps the store under --max-size, trimming the noisy container to its fair share', async () => {
    const dir = await tempDir();
    const kv = await openLevelStore(dir, { create: true });
    const now = nowMicros();
    const line = (i: number): string => `${i} ${randomBytes(600).toString('base64')}`;
    await kv.write([rec(A, 'noisy'), rec(B, 'quiet')]);
    for (let b = 0; b < 40; b++) { // ~33 MiB of incompressible log lines
      const puts: KVEntry[] = [];
      for (let i = 0; i < 1000; i++) puts.push(ev(A, now - 3600 * S + (b * 1000 + i) * 10_000, 'log', line(b * 1000 + i)));
      await kv.write(puts);
    }
    const q: KVEntry[] = [];
    for (let i = 0; i < 200; i++) q.push(ev(B, now - 3500 * S + i * S, 'log', line(i)));
    await kv.write(q);
    await kv.compact(Buffer.from([0]), Buffer.from([0xff]));
    const maxSize = 16 << 20;
    expect(await storeBytes(dir)).toBeGreaterThan(maxSize * 1.5);
    const r = await retention(kv, { maxSize }).pass();
    expect(r.sizeAfter).toBeLessThanOrEqual(maxSize);
    expect(await storeBytes(dir)).toBeLessThanOrEqual(maxSize);
    expect(await keys(kv, timeRange(P_EVENT, B))).toHaveLength(200);
    const noisy = await keys(kv, timeRange(P_EVENT, A));
    expect(noisy.length).toBeGreaterThan(1000);
    expect(noisy.length).toBeLessThan(40_000);
    expect(timeOfKey(noisy[noisy.length - 1]!)).toBe(now - 3600 * S + 39_999 * 10_000);
    expect(await keys(kv, prefixRange(0x63))).toHaveLength(2);
    await kv.close();
  });

  it('keeps imported events out of age retention up to --import-max, the longest-imported going first; records count what remains', async () => {
    const kv = await openLevelStore(await tempDir(), { create: true });
    const now = nowMicros();
    const week = now - 7 * 86400 * S;
    const puts: KVEntry[] = [rec(A, 'old-import', { events: 100 }), rec(B, 'new-import', { events: 100 })];
    for (let i = 0; i < 100; i++) puts.push(ev(A, week + i * S, 'log', 'a'.repeat(200)), ev(B, week + i * S, 'log', 'b'.repeat(200)));
    const imp = (file: string, c: string, importedAt: number) => [metaKey(`import/${file}`), pack({ file, importedAt, events: 100, intervals: [{ container: c, from: week, to: week + 99 * S }] })] as KVEntry;
    puts.push(imp('old.dcb', A, now - 3600 * S), imp('new.dcb', B, now - 60 * S));
    await kv.write(puts);
    // Room for one import's events, not two.
    const one = 100 * (200 + 60);
    const r = await retention(kv, { retain: 3600 * S, importMax: Math.round(one * 1.5) }).pass();
    expect(r.releasedImports).toEqual(['old.dcb']);
    expect(await keys(kv, timeRange(P_EVENT, B))).toHaveLength(100);
    expect(await keys(kv, timeRange(P_EVENT, A))).toHaveLength(0);
    const records = new Map((await listContainers(kv)).map((c) => [c.id, c.events]));
    expect(records).toEqual(new Map([[A, 0], [B, 100]]));
    const old = (await listImports(kv)).find((i) => i.file === 'old.dcb')!;
    expect(old.retainUntil).toBeLessThanOrEqual(nowMicros());
    // The next pass keeps the new one and says nothing more.
    expect((await retention(kv, { retain: 3600 * S, importMax: Math.round(one * 1.5) }).pass()).releasedImports).toBeUndefined();
    expect(await keys(kv, timeRange(P_EVENT, B))).toHaveLength(100);
    await kv.close();
  });
});
