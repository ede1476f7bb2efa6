import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-store.js';
import { exportBundle } from '../../replay/export-command.js';
import { importCommand, mergeRecord } from '../../replay/import-command.js';
import { replayCommand } from '../../replay/replay-command.js';
import { openLevelStore } from '../../formats/level-store.js';
import { listContainers } from '../../formats/queries.js';
import type { ContainerRecord } from '../../formats/records.js';
import { A, writeFixtureStore } from './export-fixture.js';

class Sink extends Writable {
  text = '';
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void { this.text += c.toString(); cb(); }
}
async function replay(store: string, container: string[]): Promise<string> {
  const s = new Sink();
  await replayCommand({ store, container, format: 'json' }, s);
  return s.text;
}
async function allEntries(store: string): Promise<string[]> {
  const kv = await openLevelStore(store);
  const out: string[] = [];
  for await (const c of kv.chunks({})) for (const [k, v] of c) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
  await kv.close();
  return out;
}

describe('import', () => {
  it('into an empty store replays the same events; importing twice adds nothing', async () => {
    const dir = await tempDir();
    const src = join(dir, 'src');
    await writeFixtureStore(src);
    const { path } = await exportBundle({ store: src, container: ['alpha', 'beta'], redact: 'default', format: 'bundle', output: join(dir, 'b.dcb') }, new Sink());
    const dst = join(dir, 'dst');
    const first = await importCommand({ file: path, store: dst }, new Sink());
    expect(first).toMatchObject({ events: 156, present: 0, conflicts: 0, containers: 2, newContainers: 2 });
    for (const sel of [['alpha', 'beta'], ['alpha'], ['beta'], [A.slice(0, 6)]]) expect(await replay(dst, sel)).toBe(await replay(src, sel));
    const before = await allEntries(dst);
    const out = new Sink();
    const second = await importCommand({ file: path, store: dst }, out);
    expect(second).toMatchObject({ added: 0, events: 0, present: first.added, conflicts: 0, newContainers: 0 });
    expect(out.text).toMatch(/0 new events/);
    expect(await allEntries(dst)).toEqual(before);
  });

  it('merges into a store that already knows the container', async () => {
    const dir = await tempDir();
    const src = join(dir, 'src');
    await writeFixtureStore(src);
    const { path } = await exportBundle({ store: src, container: ['alpha'], since: '1760000030', redact: 'default', format: 'bundle', output: join(dir, 'b.dcb') }, new Sink());
    // Importing a part of a store into that same store adds nothing.
    const r = await importCommand({ file: path, store: src }, new Sink());
    expect(r).toMatchObject({ added: 0, conflicts: 0, newContainers: 0 });
    const kv = await openLevelStore(src);
    expect((await listContainers(kv)).length).toBe(2);
    await kv.close();
  });

  it('mergeRecord is idempotent and keeps every name', () => {
    const a: ContainerRecord = { id: A, name: 'old', names: ['old'], image: 'i', firstSeen: 5, lastSeen: 10, state: 'exited', events: 3, bytes: 30 };
    const b: ContainerRecord = { ...a, name: 'new', names: ['old', 'new'], firstSeen: 7, lastSeen: 20, state: 'removed', events: 2, bytes: 20 };
    const m = mergeRecord(a, b);
    expect(m).toMatchObject({ name: 'new', names: ['old', 'new'], firstSeen: 5, lastSeen: 20, state: 'removed', events: 3, bytes: 30 });
    expect(mergeRecord(m, b)).toEqual(m);
    expect(mergeRecord(undefined, b)).toBe(b);
  });
});
