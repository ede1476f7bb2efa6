/**
 * Issue 8: bpftrace dies while recording (SIGKILL to the recorder's bpftrace child): the recorder
 * stays up, restarts bpftrace with backoff, records the hole as an `ebpf-restart` gap, and execs
 * in a container are recorded again afterwards. And when bpftrace cannot start at all on
 * `--sources auto`, the recorder falls back to /proc polling and says so in one line.
 */
import { readFile, readdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-store.js';
import { docker, removeTestContainers, runDetached, uniqueName } from '../../helpers/engine.js';
import { logLines, replayJson, startRecorder, until } from '../../helpers/recorder.js';
import { openLevelStore } from '../../../formats/level-store.js';
import { P_EVENT, timeRange } from '../../../formats/keys.js';
import { readEvents } from '../../../formats/event-scan.js';
import type { DashEvent } from '../../../formats/schema.js';

afterAll(removeTestContainers);

/** Child processes of this process named bpftrace running the program of a class of probes. */
async function bpftraceChildren(cls: string): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    const cmdline = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (m && m[1] === 'bpftrace' && Number(m[2]) === process.pid && cmdline.includes(`dashcam-${cls}.bt`)) out.push(Number(p));
  }
  return out;
}

async function hostEvents(store: string): Promise<DashEvent[]> {
  const kv = await openLevelStore(store);
  const out: DashEvent[] = [];
  try {
    for await (const evs of readEvents(kv, timeRange(P_EVENT, ''))) out.push(...evs);
  } finally {
    await kv.close();
  }
  return out;
}

const execOf = (evs: Record<string, unknown>[], arg: string): boolean =>
  evs.some((e) => e.kind === 'exec' && e.source === 'ebpf' && Array.isArray(e.argv) && e.argv.includes(arg));

describe('bpftrace dies or cannot start (real engine)', () => {
  it('restarts a killed bpftrace with backoff, records the gap, and sees execs again', { timeout: 240_000 }, async () => {
    const store = await tempDir();
    const rec = await startRecorder(store, { sources: ['docker', 'ebpf'] });
    const name = uniqueName('bpfdie');
    try {
      const id = await runDetached(name, [], ['sleep', '3600']);
      await until(async () => rec.sources.find((s) => s.name === 'docker')!.health().state === 'running', 10_000, 'docker source');
      await docker('exec', id, '/bin/echo', 'before-kill');
      await until(async () => execOf(await replayJson(store, name), 'before-kill'), 30_000, 'the exec before the kill');

      // The one running the process probes: the execs below must come back with it.
      const [pid] = await bpftraceChildren('process');
      expect(pid).toBeDefined();
      const killedAt = Date.now();
      process.kill(pid!, 'SIGKILL');
      const ebpf = rec.sources.find((s) => s.name === 'ebpf')!;
      await until(async () => ebpf.health().state === 'degraded', 10_000, 'the eBPF source to notice');
      // Backoff: 1 s, then bpftrace compiles and attaches its probes again.
      await until(async () => ebpf.health().state === 'running', 180_000, 'bpftrace restarted and attached');
      const recoverMs = Date.now() - killedAt;
      const [again] = await bpftraceChildren('process');
      expect(again).toBeDefined();
      expect(again).not.toBe(pid);
      expect(ebpf.health().detail).toMatch(/restarts 1\b/);

      await docker('exec', id, '/bin/echo', 'after-restart');
      await until(async () => execOf(await replayJson(store, name), 'after-restart'), 30_000, 'the exec after the restart');
      await rec.stop();

      const gaps = (await hostEvents(store)).filter((e) => e.kind === 'gap' && e.reason === 'ebpf-restart');
      expect(gaps).toHaveLength(1);
      const g = gaps[0]!;
      if (g.kind !== 'gap') throw new Error('not a gap');
      expect(g.from).toBeGreaterThanOrEqual(killedAt * 1000 - 1e6);
      expect(g.to! - g.from!).toBeGreaterThan(0);
      expect(g.detail).toMatch(/process events in between were not seen/);
      console.log(`bpftrace-dies: probe back after ${recoverMs} ms; gap ebpf-restart of ${((g.to! - g.from!) / 1e6).toFixed(1)} s (${g.detail})`);
    } finally {
      await rec.stop();
    }
  });

  it('falls back to /proc polling on --sources auto when bpftrace cannot start, and says so in one line', { timeout: 120_000 }, async () => {
    for (const bin of ['/bin/false', '/nonexistent/bpftrace']) {
      const store = await tempDir();
      const from = logLines.length;
      const rec = await startRecorder(store, { sources: 'auto', bpftrace: bin });
      try {
        expect(rec.sources.map((s) => s.name).sort()).toEqual(['docker', 'procfs']);
        const said = logLines.slice(from).filter((l) => /kernel-level capture: \/proc polling, because eBPF failed to start/.test(l));
        expect(said, bin).toHaveLength(1);
        expect(said[0]).toMatch(/bpftrace (exited|could not run)/);
        console.log(`bpftrace-dies (${bin}): ${said[0]!.trim()}`);
      } finally {
        await rec.stop();
      }
    }
  });
});
