/** A name two containers bore: replay picks the newest and says so, naming the other and how to choose. */
import { describe, expect, it } from 'vitest';
import { openLevelStore } from '../../formats/level-store.js';
import { containerKey, nameKey } from '../../formats/keys.js';
import { pack } from '../../formats/codec.js';
import { resolveTarget } from '../../replay/replay-target.js';
import { tempDir } from '../helpers/temp-store.js';

const OLD = 'a1'.repeat(32);
const NEW = 'b2'.repeat(32);
const rec = (id: string, lastSeen: number) => [containerKey(id), pack({ id, name: 'web', names: ['web'], image: 'nginx', firstSeen: lastSeen - 10, lastSeen, state: 'exited', events: 0, bytes: 0 })] as const;

describe('an ambiguous container name', () => {
  it('resolves to the newest and warns once, naming the others and --container ID', async () => {
    const kv = await openLevelStore(await tempDir(), { create: true });
    await kv.write([rec(OLD, 1_000_000), rec(NEW, 2_000_000), [nameKey('web', OLD), new Uint8Array(0)], [nameKey('web', NEW), new Uint8Array(0)]]);
    const said: string[] = [];
    const t = await resolveTarget(kv, { container: ['web'] }, (l) => said.push(l));
    expect(t.records.map((r) => r.id)).toEqual([NEW]);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^dashcam: 2 containers were named "web"; showing the newest, b2b2b2b2b2b2 .*the others: a1a1a1a1a1a1 .*choose one with --container ID\n$/);
    // A unique ID prefix is not ambiguous.
    said.length = 0;
    await resolveTarget(kv, { container: [OLD.slice(0, 8)] }, (l) => said.push(l));
    expect(said).toEqual([]);
    await kv.close();
  });
});
