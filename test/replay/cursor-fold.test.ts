import { afterEach, describe, expect, it } from 'vitest';
import type { LevelStore } from '../../formats/level-store.js';
import { listContainers } from '../../formats/queries.js';
import { Cursor } from '../../replay/cursor.js';
import { isNotable } from '../../replay/notable.js';
import { ProbeFolder, foldEvents, isFold } from '../../replay/fold.js';
import { eventChunks } from '../../formats/queries.js';
import { stateJson } from '../../replay/state-json.js';
import { loadState } from '../../formats/state-load.js';
import { CID_A, fixtureStore } from './fixture-events.js';
import { tempDir } from '../helpers/temp-store.js';

let open: LevelStore[] = [];
afterEach(async () => {
  await Promise.all(open.map((kv) => kv.close()));
  open = [];
});

async function store(): Promise<LevelStore> {
  const { kv } = await fixtureStore({ count: 3000, seed: 21 }, { everyEvents: 200 }, await tempDir());
  open.push(kv);
  return kv;
}

describe('cursor', () => {
  it('steps forward by applying events and agrees with a fresh seek at every step', async () => {
    const kv = await store();
    const c = await Cursor.open(kv, await listContainers(kv));
    for (let i = 0; i < 300; i++) {
      const ev = await c.next();
      expect(ev).toBeDefined();
      if (i % 37 === 0) {
        const fresh = await loadState(kv, CID_A, c.pos);
        expect(stateJson(c.states[0]!)).toEqual(stateJson(fresh.state));
      }
    }
    const here = c.pos;
    const back = await c.prev();
    expect(back!.time < here.time || (back!.time === here.time && back!.seq < here.seq)).toBe(true);
    expect(await c.next()).toMatchObject({ time: here.time, seq: here.seq });
  });

  it('finds the next and previous notable events, and the events around the cursor', async () => {
    const kv = await store();
    const c = await Cursor.open(kv, await listContainers(kv));
    const first = await c.next(isNotable);
    expect(first && isNotable(first)).toBe(true);
    const second = await c.next(isNotable);
    expect(second!.time >= first!.time).toBe(true);
    expect(await c.prev(isNotable)).toMatchObject({ seq: first!.seq });
    const around = await c.around(3, 5);
    expect(around.before).toHaveLength(3);
    expect(around.before[2]!.seq).toBe(first!.seq);
    expect(around.after).toHaveLength(5);
    await c.seekTime(c.end);
    expect(await c.next()).toBeUndefined();
  });
});

describe('health-check folding', () => {
  it('folds probe exec_* runs into summaries and keeps other execs', async () => {
    const kv = await store();
    const recs = await listContainers(kv);
    let probes = 0;
    let kept = 0;
    let all = 0;
    const folder = new ProbeFolder(recs);
    for await (const chunk of foldEvents(eventChunks(kv, CID_A), folder)) {
      for (const x of chunk) {
        if (isFold(x)) { probes += x.events; continue; }
        all++;
        if (x.kind === 'lifecycle' && x.action.startsWith('exec_')) {
          kept++;
          expect(x.attributes.actionDetail ?? '').not.toBe('/bin/sh -c true');
        }
      }
    }
    expect(probes).toBeGreaterThan(50);
    expect(kept).toBeGreaterThan(10);
    let raw = 0;
    for await (const chunk of eventChunks(kv, CID_A)) raw += chunk.length;
    expect(all + probes).toBe(raw);
  });
});
