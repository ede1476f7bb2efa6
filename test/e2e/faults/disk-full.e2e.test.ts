/**
 * Issue 8: the store's disk fills up (a 16 MiB tmpfs) during a log storm. The recorder keeps
 * running and answers `status`, drops what does not fit in its bounded queue and counts it, and
 * once space returns (the tmpfs grows to 256 MiB) it reopens the store (LevelDB keeps a failed
 * write as a sticky error until then), resumes, and records the loss as a gap. The store opens
 * and replays afterwards, and every line missing from the storm is accounted for by a gap.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, removeTestContainers, runDetached, uniqueName } from '../../helpers/engine.js';
import { cli, replayEach, startRecorder, until } from '../../helpers/recorder.js';
import { openLevelStore } from '../../../formats/level-store.js';
import { P_EVENT, timeRange } from '../../../formats/keys.js';
import { readEvents } from '../../../formats/event-scan.js';
import type { DashEvent } from '../../../formats/schema.js';

const sh = promisify(execFile);
let mnt = '';

beforeAll(async () => {
  mnt = await mkdtemp(join(tmpdir(), 'dashcam-diskfull-'));
  await sh('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', mnt]);
});
afterAll(async () => {
  await removeTestContainers();
  await sh('umount', [mnt]).catch(() => sh('umount', ['-l', mnt]));
  await rm(mnt, { recursive: true, force: true });
});

async function hostGaps(store: string): Promise<DashEvent[]> {
  const kv = await openLevelStore(store);
  const out: DashEvent[] = [];
  try {
    for await (const evs of readEvents(kv, timeRange(P_EVENT, ''))) for (const ev of evs) if (ev.kind === 'gap') out.push(ev);
  } finally {
    await kv.close();
  }
  return out;
}

describe('disk full under a log storm (real engine, 16 MiB tmpfs)', () => {
  it('keeps running, counts what it drops, resumes once space returns, and records the loss as a gap', { timeout: 180_000 }, async () => {
    const store = join(mnt, 'store');
    await mkdir(store);
    const rec = await startRecorder(store, { maxQueue: 5000 });
    const name = uniqueName('fill');
    let id = '';
    try {
      id = await runDetached(name, [], ['sh', '-c', 'i=0; while true; do echo "fill line $i ................................................................"; i=$((i+1)); done']);
      const t0 = Date.now();
      // The disk fills: writes fail, the bounded queue fills, the overflow is counted.
      await until(async () => rec.pipeline.stats.writeErrors > 0 && rec.pipeline.stats.lost > 0, 90_000, 'write failures and counted loss');
      const fullAfterMs = Date.now() - t0;
      // Still alive and answering on its query socket while the disk is full.
      await new Promise((r) => setTimeout(r, 3000));
      const status = await cli(['status', '--store', store, '--format', 'json']);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ recorder: 'running' });
      expect(rec.pipeline.stats.writeErrors).toBeGreaterThan(1);

      // Space returns.
      await sh('mount', ['-o', 'remount,size=256m', mnt]);
      const freedAt = Date.now();
      const writtenAtFree = rec.pipeline.stats.written;
      await until(async () => rec.pipeline.stats.written > writtenAtFree + 10_000, 60_000, 'writes to resume');
      const recoverMs = Date.now() - freedAt;
      await docker('rm', '-f', id);
      id = '';
      await rec.pipeline.flush();
      const lost = rec.pipeline.stats.lost;
      const reopens = rec.pipeline.stats.reopens;
      await rec.stop();

      // The loss is on the record, with its count: every dropped event is in some gap.
      const gaps = (await hostGaps(store)).filter((g) => g.kind === 'gap' && (g.reason === 'write-failed' || g.reason === 'queue-overflow'));
      expect(gaps.length).toBeGreaterThan(0);
      const gapLost = gaps.reduce((n, g) => n + (g.kind === 'gap' ? (g.lost ?? 0) : 0), 0);
      expect(gapLost).toBe(lost);
      expect(gaps.some((g) => g.kind === 'gap' && g.reason === 'write-failed')).toBe(true);

      // No corruption: the store opens and replays; lines missing from the storm are at most
      // what the gaps account for (nothing vanished silently).
      const ls = await cli(['ls', '--all', '--store', store, '--format', 'json']);
      expect(ls.code, ls.stderr).toBe(0);
      // Read as it streams: the storm stores more than fits in one string.
      const seen = new Set<number>();
      let logs = 0;
      let max = -1;
      await replayEach(store, name, (e) => {
        if (e.kind !== 'log') return;
        const i = Number(String(e.line).split(' ')[2]);
        logs++;
        seen.add(i);
        if (i > max) max = i;
      });
      const missing = max + 1 - seen.size;
      expect(logs).toBeGreaterThan(50_000);
      expect(missing).toBeLessThanOrEqual(lost);
      console.log(`disk-full: full after ${fullAfterMs} ms; lost ${lost} events (${missing} storm lines missing of ${max + 1}; ${logs} stored); ` +
        `resumed ${recoverMs} ms after space returned; ${reopens} store reopen(s); gaps ${gaps.map((g) => (g.kind === 'gap' ? `${g.reason}:${g.lost}` : '')).join(', ')}`);
    } finally {
      if (id) await docker('rm', '-f', id).catch(() => '');
      await rec.stop().catch(() => undefined);
    }
  });
});
