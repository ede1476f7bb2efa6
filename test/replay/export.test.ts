import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-store.js';
import { exportBundle, type ExportOptions } from '../../replay/export-command.js';
import { openBundleKV } from '../../replay/bundle-kv.js';
import { replayCommand } from '../../replay/replay-command.js';
import { openBundleBytes } from '../../formats/bundle-reader.js';
import { P_KEYFRAME, prefixRange, timeOfKey } from '../../formats/keys.js';
import { toRfc3339 } from '../../formats/time.js';
import type { KVReader } from '../../formats/kv.js';
import { A, B, FRAME_TIMES, INCIDENT_ID, SEC, T0, writeFixtureStore } from './export-fixture.js';

class Sink extends Writable {
  text = '';
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void { this.text += c.toString(); cb(); }
}

async function setup(): Promise<{ store: string; dir: string }> {
  const store = join(await tempDir(), 'store');
  await writeFixtureStore(store);
  return { store, dir: await tempDir() };
}
const base = (store: string, dir: string, o: Partial<ExportOptions>): ExportOptions => ({ store, container: [], redact: 'default', format: 'bundle', cwd: dir, ...o });

async function replayLines(store: string, container: string[], kv?: KVReader, extra: object = {}): Promise<string[]> {
  const s = new Sink();
  await replayCommand({ store, container, format: 'json', ...extra }, s, kv);
  return s.text.split('\n').filter(Boolean);
}
async function keyframeTimes(kv: KVReader): Promise<number[]> {
  const out: number[] = [];
  for await (const c of kv.chunks(prefixRange(P_KEYFRAME))) for (const [k] of c) out.push(timeOfKey(k));
  return out;
}

describe('export', () => {
  it('a bundle of two containers replays exactly like the store', async () => {
    const { store, dir } = await setup();
    const res = await exportBundle(base(store, dir, { container: ['alpha', 'beta'], output: 'all.dcb' }), new Sink());
    expect(res.path).toBe(join(dir, 'all.dcb'));
    const b = await openBundleKV(res.path);
    expect(b.containers).toEqual([A, B]);
    const fromStore = await replayLines(store, ['alpha', 'beta']);
    expect(fromStore.length).toBe(156); // 104 + 51 container events + 1 host gap (the host exec is not exported)
    expect(await replayLines('/nonexistent', b.containers, b.kv)).toEqual(fromStore);
    expect(await replayLines('/nonexistent', ['alpha'], b.kv)).toEqual(await replayLines(store, ['alpha']));
    expect(b.manifest.counts).toMatchObject({ events: 156, keyframes: 3, incidents: 1, byKind: { exec: 50, net: 50, log: 50, gap: 1, lifecycle: 3, snapshot: 1, incident: 1 } });
    expect(b.manifest.containers.map((c) => [c.name, c.events])).toEqual([['alpha', 104], ['beta', 51]]);
    expect(b.manifest.redaction.profile).toBe('default');
  });

  it('--since/--until takes the window, the keyframe before it and the incident inside it', async () => {
    const { store, dir } = await setup();
    const since = toRfc3339(T0 + 25 * SEC);
    const until = toRfc3339(T0 + 40 * SEC);
    const res = await exportBundle(base(store, dir, { container: ['alpha'], since, until, output: 'w.dcb' }), new Sink());
    const b = await openBundleKV(res.path);
    expect(await keyframeTimes(b.kv)).toEqual([FRAME_TIMES[0], FRAME_TIMES[1]]);
    expect(b.manifest.incidents.map((i) => i.id)).toEqual([INCIDENT_ID]);
    expect(b.manifest.timeRange).toMatchObject({ from: since, to: until });
    const lines = await replayLines('/x', [A], b.kv);
    expect(lines).toEqual(await replayLines(store, ['alpha'], undefined, { since, until }));
    expect(lines.length).toBe(15 * 2 + 1);
  });

  it('--incident exports its container and pinned window; --around sets a window around a time', async () => {
    const { store, dir } = await setup();
    const res = await exportBundle(base(store, dir, { incident: INCIDENT_ID }), new Sink());
    expect((await readdir(dir)).filter((f) => f.endsWith('.dcb'))).toEqual([`dashcam-incident-${INCIDENT_ID}-20251009T085400.dcb`]);
    const b = await openBundleKV(res.path);
    expect(b.containers).toEqual([A]);
    expect(b.manifest.filters).toEqual({ incident: INCIDENT_ID });
    expect(b.manifest.timeRange.from).toBe(toRfc3339(T0 + 25 * SEC));

    const around = await exportBundle(base(store, dir, { container: [A.slice(0, 8)], around: toRfc3339(T0 + 30 * SEC), before: '2s', after: '3s', output: 'a.dcb' }), new Sink());
    const m = (await openBundleKV(around.path)).manifest;
    expect(m.counts.events).toBe(5 * 2 + 1); // exec+net at 28..32 s, and the incident
    expect(m.filters).toEqual({ containers: [A.slice(0, 8)], around: toRfc3339(T0 + 30 * SEC), before: '2s', after: '3s' });
  });

  it('--format jsonl writes exactly the replay --format json lines', async () => {
    const { store, dir } = await setup();
    const res = await exportBundle(base(store, dir, { container: ['beta', 'alpha'], format: 'jsonl', output: 'x.jsonl' }), new Sink());
    const text = await readFile(res.path, 'utf8');
    expect(text.split('\n').filter(Boolean)).toEqual(await replayLines(store, ['alpha', 'beta']));
  });

  it('writes a plain ustar archive with the parts in the manifest', async () => {
    const { store, dir } = await setup();
    const res = await exportBundle(base(store, dir, { container: ['beta'], output: 'b.dcb' }), new Sink());
    const opened = openBundleBytes(await readFile(res.path), 'test');
    expect([...opened.parts.keys()]).toEqual(['manifest.json', 'containers.msgpack', 'events.bin.br']);
    expect(opened.manifest.parts.map((p) => p.name)).toEqual(['containers.msgpack', 'events.bin.br']);
  });

  it('refuses ambiguous or missing selections with BAD_ARGUMENT', async () => {
    const { store, dir } = await setup();
    const err = (o: Partial<ExportOptions>): Promise<unknown> => exportBundle(base(store, dir, o), new Sink()).catch((e: unknown) => e);
    expect(await err({})).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await err({ container: ['alpha'], incident: INCIDENT_ID })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await err({ container: ['alpha'], around: '1760000000', since: '1760000000' })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await err({ container: ['alpha'], before: '1m' })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await err({ container: ['nosuch'] })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await err({ incident: 'nosuch' })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await err({ container: ['alpha'], format: 'jsonl', sign: '/nonexistent.key' })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await readdir(dir)).toEqual([]);
  });
});
