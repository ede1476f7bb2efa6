/**
 * Fuzzing the store reader: the fixture store with damaged values under valid keys (random bytes,
 * truncated msgpack, unknown kind numbers, hostile field types), keys of the wrong length inside
 * a container's range, and damaged container, incident and keyframe records. `replay` (json and
 * text), `replay --at`, `ls` and `incidents` must each succeed or fail with a FormatError whose
 * code is stable and whose message says where the damage is; never a TypeError or a stack trace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStore, type LevelStore } from '../../formats/level-store.js';
import type { KVEntry, KVRange, KVReader } from '../../formats/kv.js';
import { P_CONTAINER, P_EVENT, P_INCIDENT, P_KEYFRAME, P_NAME, cidBytes, prefixRange } from '../../formats/keys.js';
import { pack } from '../../formats/codec.js';
import { toRfc3339 } from '../../formats/time.js';
import { replayCommand } from '../../replay/replay-command.js';
import { atCommand } from '../../replay/at-command.js';
import { lsCommand } from '../../replay/ls-command.js';
import { incidentsCommand } from '../../replay/incidents-command.js';
import { A, B, SEC, T0, writeFixtureStore } from '../replay/export-fixture.js';
import { Rng, Tally, fuzzCases, fuzzSeed, hostileEventValue, hostileValue, mutateBytes, runCase, type Outcome } from '../helpers/fuzz.js';
import { cli } from '../helpers/recorder.js';

class Sink extends Writable {
  bytes = 0;
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void { this.bytes += c.length; cb(); }
}
/** The store, minus close(): replay's commands close what they are given. */
const keepOpen = (kv: KVReader): KVReader => ({ get: (k) => kv.get(k), chunks: (r: KVRange) => kv.chunks(r), close: async () => undefined });

const STORE_CODES = new Set(['DECODE', 'STORE_CORRUPT', 'BAD_ARGUMENT']);
const LIMIT_MS = 5_000;
const AT = toRfc3339(T0 + 35 * SEC);

let work: string;
let pristine: string;
let original: Map<string, KVEntry[]>;

async function entries(kv: KVReader, prefix: number): Promise<KVEntry[]> {
  const out: KVEntry[] = [];
  for await (const c of kv.chunks(prefixRange(prefix))) for (const [k, v] of c) out.push([Buffer.from(k), Buffer.from(v)]);
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dashcam-fuzz-store-'));
  pristine = join(work, 'pristine');
  await writeFixtureStore(pristine);
  const kv = await openLevelStore(pristine);
  original = new Map();
  for (const p of [P_EVENT, P_KEYFRAME, P_CONTAINER, P_INCIDENT, P_NAME]) original.set(String.fromCharCode(p), await entries(kv, p));
  await kv.close();
  return () => rm(work, { recursive: true, force: true });
});

/** One damage: puts to apply (and remember to undo) to the fixture store. */
function damage(rng: Rng): { puts: KVEntry[]; how: string } {
  const ev = original.get('e')!;
  const pickEv = (): KVEntry => rng.pick(ev.filter(([k]) => rng.chance(0.5) || k.subarray(1, 33).equals(cidBytes(A))));
  const what = rng.int(10);
  switch (what) {
    case 0: { const [k] = pickEv(); return { puts: [[k, rng.bytes(rng.int(64))]], how: 'event: random bytes' }; }
    case 1: { const [k, v] = pickEv(); return { puts: [[k, Buffer.from(v).subarray(0, rng.int(v.length))]], how: 'event: truncated msgpack' }; }
    case 2: { const [k] = pickEv(); return { puts: [[k, pack([rng.pick([0, 13, 42, 99, 127]), 0, 'x'])]], how: 'event: unknown kind number' }; }
    case 3: { const [k] = pickEv(); return { puts: [[k, hostileEventValue(rng)]], how: 'event: hostile fields' }; }
    case 4: { const [k, v] = pickEv(); return { puts: [[k, mutateBytes(Buffer.from(v), rng).data]], how: 'event: mutated bytes' }; }
    case 5: {
      // A key of the wrong length inside a container's event range.
      const [k, v] = pickEv();
      const bad = rng.chance(0.5) ? k.subarray(0, 1 + rng.int(k.length - 1)) : Buffer.concat([k, rng.bytes(1 + rng.int(8))]);
      return { puts: [[bad, v]], how: `event: key of ${bad.length} bytes` };
    }
    case 6: {
      const [k, v] = rng.pick(original.get('c')!);
      const rec = { id: rng.chance(0.7) ? k.subarray(1).toString() : hostileValue(rng, 1) } as Record<string, unknown>;
      for (const f of ['name', 'names', 'image', 'state', 'firstSeen', 'lastSeen', 'events', 'bytes', 'exitCode', 'removed', 'snapshot', 'labels']) rec[f] = rng.chance(0.3) ? hostileValue(rng, 2) : undefined;
      return { puts: [[k, rng.chance(0.3) ? mutateBytes(Buffer.from(v), rng).data : pack({ ...(rng.chance(0.5) ? {} : { names: [], events: 0, bytes: 0, firstSeen: T0, lastSeen: T0, name: 'x', image: 'i', state: 'exited' }), ...Object.fromEntries(Object.entries(rec).filter(([, x]) => x !== undefined)) })]], how: 'container record damaged' };
    }
    case 7: {
      const [k, v] = rng.pick(original.get('i')!);
      const f = rng.pick(['id', 'time', 'container', 'trigger', 'severity', 'title', 'windowStart', 'windowEnd', 'pinUntil', 'merged', 'note']);
      return { puts: [[k, rng.chance(0.3) ? mutateBytes(Buffer.from(v), rng).data : pack({ id: 'inc0001', time: T0 + 30 * SEC, container: A, trigger: 'exit', severity: 'high', title: 't', windowStart: T0, windowEnd: T0 + 60 * SEC, pinUntil: T0, [f]: hostileValue(rng, 2) })]], how: `incident record: ${f}` };
    }
    case 8: {
      const [k, v] = rng.pick(original.get('k')!);
      // A usable header around a hostile body: state fields of the wrong type, process, connection
      // and file rows with hostile fields (keyframe.ts STATE_FIELDS order: procs is the 16th).
      const row = (): unknown[] => [...Array(rng.int(16))].map(() => (rng.chance(0.6) ? rng.int(100) : hostileValue(rng, 2)));
      const body = [...Array(rng.int(25))].map((_, i) => (i >= 15 && i <= 21 && rng.chance(0.7) ? [...Array(1 + rng.int(3))].map(row) : rng.chance(0.5) ? undefined : hostileValue(rng, 2)));
      const how = rng.int(3);
      const value = how === 0 ? mutateBytes(Buffer.from(v), rng).data : how === 1 ? pack([1, 1, rng.int(100), [...Array(rng.int(25))].map(() => hostileValue(rng, 2))]) : pack([1, 1, rng.int(100), pack(body)]);
      return { puts: [[k, value]], how: `keyframe damaged (${['bytes', 'header', 'body'][how]})` };
    }
    default: {
      // A name index entry pointing at a container with no (or a damaged) record.
      const id = rng.chance(0.5) ? 'f'.repeat(64) : rng.bytes(8).toString('hex');
      return { puts: [[Buffer.concat([Buffer.from([P_NAME]), Buffer.from('alpha\0'), Buffer.from(id)]), Buffer.alloc(0)]], how: 'name index: dangling id' };
    }
  }
}

async function withStore<T>(dir: string, fn: (s: LevelStore) => Promise<T>): Promise<T> {
  const s = await openLevelStore(dir);
  try { return await fn(s); } finally { await s.close(); }
}

/** Every reader of a store: replay json/text of both containers, --at, ls, incidents. */
async function consume(dir: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  await withStore(dir, async (s) => {
    const kv = keepOpen(s);
    for (const container of [['alpha'], ['beta'], [A, B]]) {
      out.push(await runCase(() => replayCommand({ store: dir, container, format: 'json' }, new Sink(), kv), LIMIT_MS));
      out.push(await runCase(() => replayCommand({ store: dir, container, format: 'text' }, new Sink(), kv), LIMIT_MS));
    }
    out.push(await runCase(() => atCommand({ store: dir, container: ['alpha'], at: AT, format: 'json' }, new Sink(), kv), LIMIT_MS));
    out.push(await runCase(() => atCommand({ store: dir, container: ['alpha', 'beta'], at: AT, format: 'text' }, new Sink(), kv), LIMIT_MS));
    out.push(await runCase(() => replayCommand({ store: dir, container: [], incident: 'inc0001', format: 'text' }, new Sink(), kv), LIMIT_MS));
  });
  out.push(await runCase(() => lsCommand({ store: dir, all: true, format: 'text' }, new Sink()), LIMIT_MS));
  out.push(await runCase(() => lsCommand({ store: dir, all: true, format: 'json' }, new Sink()), LIMIT_MS));
  out.push(await runCase(() => incidentsCommand({ store: dir, format: 'text' }, new Sink()), LIMIT_MS));
  return out;
}

describe('store reader fuzz', () => {
  it('the pristine store reads cleanly everywhere', async () => {
    expect((await consume(pristine)).every((o) => o.ok)).toBe(true);
  });

  const total = fuzzCases(300);
  it(`${total} damaged stores: every reader succeeds or fails with DECODE/STORE_CORRUPT saying where`, async () => {
    const seed = fuzzSeed();
    const tally = new Tally();
    const dir = join(work, 'case');
    await cp(pristine, dir, { recursive: true });
    for (let i = 0; i < total; i++) {
      const rng = new Rng(seed + i);
      const { puts, how } = damage(rng);
      // Undo = the original values of the damaged keys (or deletion of keys that were not there).
      const undo = await withStore(dir, async (s) => {
        const before = await Promise.all(puts.map(async ([k]) => [k, await s.get(k)] as const));
        await s.write(puts);
        return before;
      });
      let outs: Outcome[];
      try {
        outs = await consume(dir);
      } catch (err) {
        throw new Error(`case ${i} (seed ${seed + i}, ${how}) threw ${(err as Error)?.stack ?? err}`);
      }
      for (const o of outs) {
        tally.add(o);
        if (o.ok) continue;
        if (!STORE_CODES.has(o.code)) throw new Error(`case ${i} (seed ${seed + i}, ${how}): unexpected code ${o.code}: ${o.message}`);
        if (o.code === 'DECODE' && !/damaged event at container \S+ time \d+ seq \d+/.test(o.message)) throw new Error(`case ${i} (${how}): DECODE without a position: ${o.message}`);
      }
      await withStore(dir, (s) => s.write(undo.filter(([, v]) => v !== undefined) as KVEntry[], undo.filter(([, v]) => v === undefined).map(([k]) => k)));
    }
    console.log(`${total} damaged stores, seed ${seed}: ${tally}`);
    expect(tally.byCode.get('DECODE') ?? 0).toBeGreaterThan(0);
    expect(tally.byCode.get('STORE_CORRUPT') ?? 0).toBeGreaterThan(0);
  }, 600_000);

  it('through the CLI, a damaged value is one line on stderr naming the code, exit 1, no stack trace', async () => {
    const dir = join(work, 'cli');
    await cp(pristine, dir, { recursive: true });
    const [k] = original.get('e')!.find(([key]) => key.subarray(1, 33).equals(cidBytes(A)))!;
    await withStore(dir, (s) => s.write([[k, pack([3, 1, 'not-a-pid'])]]));
    for (const format of ['json', 'text']) {
      const r = await cli(['replay', '--store', dir, '--container', 'alpha', '--format', format]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^dashcam: damaged event at container a{63}1 time \d+ seq \d+: .* \[DECODE\]\n$/);
    }
    const at = await cli(['replay', '--store', dir, '--container', 'alpha', '--at', AT, '--format', 'json']);
    expect(at.code).toBe(1);
    expect(at.stderr).toMatch(/^dashcam: .*\[DECODE\]\n$/);
    const [[ck]] = original.get('c')!;
    await withStore(dir, (s) => s.write([[ck!, pack({ id: A, name: 7 })]]));
    const ls = await cli(['ls', '--all', '--store', dir]);
    expect(ls.code).toBe(1);
    expect(ls.stderr).toMatch(/^dashcam: container record a{63}1 is damaged: field name has the wrong type \[STORE_CORRUPT\]\n$/);
  });
});
