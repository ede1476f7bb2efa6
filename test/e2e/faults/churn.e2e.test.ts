/**
 * Issue 8: 500 containers created and destroyed in a few minutes. Every one is in `ls --all` with
 * its exit code, and afterwards the recorder's per-container state (container book, docker source
 * maps, log followers, keyframe tracks, incident state) is back at its baseline and its heap is
 * within a few MiB of where it started: nothing per container, stream or timer leaks.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-store.js';
import { IMAGE, LABEL, removeTestContainers, uniqueName } from '../../helpers/engine.js';
import { dockerFromEnv } from '../../../recorder/docker/docker-source.js';
import { cli, replayJson, startRecorder, until } from '../../helpers/recorder.js';

const COUNT = Number(process.env.DASHCAM_CHURN_COUNT ?? 500);
const BATCH = 10;
const HEAP_SLACK = 20 << 20;
const SLACK = 10;

afterAll(removeTestContainers);

// The pool's forks run without --expose-gc; the flag can still be turned on at run time.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage().heapUsed;
}

describe('container churn (real engine)', () => {
  // The engine alone takes 2 to 5.5 minutes for 500 containers on the 2-core machine, with the
  // machine's speed (20 in 13 s without a recorder on a slow day): the limit leaves room for that.
  it('lists all 500 containers with their exit codes and returns to its baseline footprint', { timeout: 600_000 }, async () => {
    const store = await tempDir();
    const rec = await startRecorder(store, { containerEvictMs: 1000 });
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const baseline = rec.footprint();
      const heap0 = await settledHeap();
      const prefix = uniqueName('churn');
      const t0 = Date.now();
      // Through the Engine API: three docker CLI processes per batch cost about 15% more of the
      // engine-bound minutes this takes (0.50 against 0.43 s per container, measured alone).
      const api = dockerFromEnv();
      const [labelKey, labelValue] = LABEL.split('=') as [string, string];
      for (let b = 0; b < COUNT; b += BATCH) {
        const batch = await Promise.all(Array.from({ length: BATCH }, (_, j) => b + j).map(async (i) => {
          const c = await api.createContainer({ Image: IMAGE, name: `${prefix}-${i}`, Cmd: ['sh', '-c', `exit ${i % 7}`], Labels: { [labelKey]: labelValue } });
          await c.start();
          return c;
        }));
        await Promise.all(batch.map((c) => c.wait()));
        await Promise.all(batch.map((c) => c.remove()));
      }
      const churnMs = Date.now() - t0;

      // Every container is listed, removed, with its exit code.
      let seen: { name: string; exitCode: number | null; removed: boolean }[] = [];
      const listed = await until(async () => {
        const ls = await cli(['ls', '--all', '--store', store, '--format', 'json']);
        if (ls.code !== 0) throw new Error(ls.stderr);
        const rows = ls.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name: string; exitCode: number | null; removed: boolean });
        const ours = (seen = rows.filter((r) => r.name.startsWith(`${prefix}-`)));
        return ours.length === COUNT && ours.every((r) => r.removed && r.exitCode !== null) ? ours : undefined;
      }, 60_000, `all ${COUNT} containers removed with an exit code in ls --all`).catch(async (err: Error) => {
        const odd = seen.filter((r) => !r.removed || r.exitCode === null).slice(0, 5);
        const tl = odd[0] ? (await replayJson(store, odd[0].name)).map((e) => `${e.kind}:${String(e.action ?? e.reason ?? '')}`) : [];
        throw new Error(`${err.message}: ${seen.length} listed, for example ${JSON.stringify(odd)}; timeline ${tl.join(' ')}`);
      });
      for (const r of listed) expect(r.exitCode, r.name).toBe(Number(r.name.slice(prefix.length + 1)) % 7);

      // Per-container state drains back to the baseline once the removed containers are evicted.
      const drainStart = Date.now();
      // Other suites share the engine, so its other containers may come and go meanwhile: a few
      // entries of slack, against hundreds a per-container leak would leave.
      const within = (slack: number): boolean => Object.entries(rec.footprint()).every(([k, v]) => v <= (baseline[k] ?? 0) + slack);
      await until(async () => within(0), 15_000, 'the footprint to return to its baseline').catch(() => {
        for (const [k, v] of Object.entries(rec.footprint())) expect(v, k).toBeLessThanOrEqual((baseline[k] ?? 0) + SLACK);
      });
      const drainMs = Date.now() - drainStart;
      const heap1 = await settledHeap();
      console.log(`churn: ${COUNT} containers in ${churnMs} ms; footprint back to baseline ${drainMs} ms after ls; ` +
        `heap ${(heap0 / 2 ** 20).toFixed(1)} MiB -> ${(heap1 / 2 ** 20).toFixed(1)} MiB; baseline ${JSON.stringify(baseline)}; after ${JSON.stringify(rec.footprint())}`);
      expect(heap1).toBeLessThan(heap0 + HEAP_SLACK);
    } finally {
      await rec.stop();
    }
  });
});
