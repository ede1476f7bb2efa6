/**
 * `replay --at T --format json` against a real recording, and the keyframe property over it: the
 * state at t from a keyframe equals the state replayed from the start.
 */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, runDetached, uniqueName } from '../helpers/engine.js';
import { cli, replayJson, until, useRecorders } from '../helpers/recorder.js';
import { openLevelStore } from '../../formats/level-store.js';
import { loadState, atTime } from '../../formats/state-load.js';
import { P_KEYFRAME, prefixRange, parseTimeKey } from '../../formats/keys.js';
import { stateJson } from '../../replay/state-json.js';
import { toRfc3339 } from '../../formats/time.js';
import { parseRfc3339 } from '../../formats/time.js';

const recorders = useRecorders();

type Proc = { argv: string[]; alive: boolean; exit: string | null };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('replay --at (real engine)', () => {
  it('lists the processes alive at T and not those started later; keyframe state equals full replay', async () => {
    const store = await tempDir();
    const rec = await recorders.start(store, { sources: ['docker', 'procfs'], pollMs: 200, statsIntervalMs: 500, keyframeEvery: 3 });
    const name = uniqueName('at');
    const id = await runDetached(name, [], ['sh', '-c', 'echo started; sleep 60']);
    await sleep(800);
    await docker('exec', '-d', id, 'sleep', '101');
    await docker('exec', id, 'sh', '-c', 'echo one-shot');
    await sleep(1500);
    const mid = Date.now() * 1000;
    await sleep(1500);
    await docker('exec', '-d', id, 'sleep', '202');
    await sleep(1000);
    await docker('rm', '-f', id);
    await until(async () => (await replayJson(store, name)).some((e) => e.action === 'destroy'), 15_000, 'destroy recorded');

    const at = await cli(['replay', '--store', store, '--container', name, '--at', toRfc3339(mid), '--format', 'json']);
    expect(at.code).toBe(0);
    const doc = JSON.parse(at.stdout) as { at: string; containers: { name: string; status: string; processes: Proc[] }[] };
    expect(doc.containers).toHaveLength(1);
    const c = doc.containers[0]!;
    expect(c.name).toBe(name);
    expect(c.status).toBe('running');
    const alive = c.processes.filter((p) => p.alive).map((p) => p.argv.join(' '));
    expect(alive.some((a) => a.includes('sleep 101'))).toBe(true);
    expect(alive.some((a) => a.includes('sleep 60'))).toBe(true);
    expect(c.processes.some((p) => p.argv.join(' ').includes('sleep 202'))).toBe(false);
    expect(c.processes.some((p) => p.argv.join(' ').includes('echo one-shot') && !p.alive)).toBe(true);

    const after = JSON.parse((await cli(['replay', '--store', store, '--container', name, '--at', toRfc3339(Date.now() * 1000), '--format', 'json'])).stdout) as typeof doc;
    const late = after.containers[0]!;
    expect(late.status).toBe('removed');
    expect(late.processes.some((p) => p.argv.join(' ').includes('sleep 202'))).toBe(true);
    expect(late.processes.every((p) => !p.alive)).toBe(true);

    // The keyframe property over this real recording (stop the recorder to read the store directly).
    await rec.stop();
    const events = await replayJson(store, id);
    const kv = await openLevelStore(store);
    try {
      const times: number[] = [];
      for await (const chunk of kv.chunks(prefixRange(P_KEYFRAME))) for (const [k] of chunk) if (parseTimeKey(k).container === id) times.push(parseTimeKey(k).time);
      expect(times.length).toBeGreaterThan(2);
      const probes = [...times, ...events.map((e) => parseRfc3339(e.time as string)!), mid];
      let used = 0;
      for (const t of probes) {
        const fast = await loadState(kv, id, atTime(t));
        const slow = await loadState(kv, id, atTime(t), { keyframes: false });
        expect(stateJson(fast.state)).toEqual(stateJson(slow.state));
        if (fast.keyframe) used++;
      }
      expect(used).toBeGreaterThan(2);
    } finally {
      await kv.close();
    }
  });
});
