/**
 * Issue 8: the recorder is killed with SIGKILL in the middle of a log storm. On restart the store
 * opens, everything acknowledged before the kill is still there, and the hole is a recorded gap.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../../helpers/temp-store.js';
import { docker, removeTestContainers, runDetached, uniqueName } from '../../helpers/engine.js';
import { cli, exited, recorderReady, replayJson, spawnRecorder, until } from '../../helpers/recorder.js';

afterAll(removeTestContainers);
const TOTAL = 300_000;


describe('SIGKILL during a log storm (real engine)', () => {
  it('keeps every acknowledged line, records the hole as a gap, and resumes without duplicates', { timeout: 240_000 }, async () => {
    const store = await tempDir();
    let rec = spawnRecorder(store);
    await recorderReady(rec);
    const name = uniqueName('storm');
    const id = await runDetached(name, [], ['sh', '-c', `i=0; while [ $i -lt ${TOTAL} ]; do echo "storm line $i"; i=$((i+1)); done; sleep 3600`]);
    // Lines the recorder has acknowledged: what a reader sees through its query socket is on disk.
    const seen = await until(async () => {
      const n = (await replayJson(store, name)).filter((e) => e.kind === 'log').length;
      return n > 20_000 ? n : undefined;
    }, 60_000, 'a storm of 20,000 stored lines');
    rec.kill('SIGKILL');
    await exited(rec);

    // The store opens directly after a crash, with at least what was acknowledged.
    const after = await replayJson(store, name);
    const lines = after.filter((e) => e.kind === 'log').map((e) => e.line as string);
    expect(lines.length).toBeGreaterThanOrEqual(seen);
    // No hole inside what was stored: the lines are a gap-free prefix of the storm.
    const nums = lines.map((l) => Number(l.split(' ')[2]));
    expect(nums.slice(0, seen)).toEqual(Array.from({ length: seen }, (_, i) => i));

    rec = spawnRecorder(store);
    let stderr = '';
    rec.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    let progress = 'nothing read yet';
    try {
      const evs = await until(async () => {
        const e = await replayJson(store, name);
        const gap = e.find((x) => x.kind === 'gap' && x.reason === 'recorder-down');
        const n = e.filter((x) => x.kind === 'log').length;
        progress = `gap ${gap ? 'recorded' : 'missing'}, ${n} lines`;
        return gap && n >= TOTAL ? e : undefined;
      }, 120_000, 'a recorder-down gap and every line of the storm').catch((err: Error) => {
        throw new Error(`${err.message} (last read: ${progress}; recorder said: ${stderr})`);
      });
      // After the restart the recorder resumed where the store stopped: every line exactly once.
      const all = evs.filter((e) => e.kind === 'log').map((e) => Number((e.line as string).split(' ')[2]));
      expect(all.length).toBe(TOTAL);
      expect(new Set(all).size).toBe(TOTAL);
    } finally {
      await docker('rm', '-f', id);
      rec.kill('SIGTERM');
      await exited(rec);
    }
    const ls = await cli(['ls', '--all', '--store', store, '--format', 'json']);
    expect(ls.code).toBe(0);
  });

  it('a container removed while the recorder was down, and one alive across it, each show the recorder-down gap once', { timeout: 90_000 }, async () => {
    const store = await tempDir();
    let rec = spawnRecorder(store);
    await recorderReady(rec);
    const name = uniqueName('gone-while-down');
    const id = await runDetached(name, [], ['sh', '-c', 'i=0; while true; do echo "storm line $i"; i=$((i+1)); done']);
    const across = uniqueName('alive-across');
    const acrossId = await runDetached(across, [], ['sh', '-c', 'while true; do echo tick; sleep 1; done']);
    await until(async () => (await replayJson(store, name)).filter((e) => e.kind === 'log').length > 5_000, 30_000, 'a storm of 5,000 stored lines');
    const killedAt = Date.now();
    rec.kill('SIGKILL');
    await exited(rec);
    await docker('rm', '-f', id);
    await new Promise((r) => setTimeout(r, 1000));
    const restartedAt = Date.now();
    rec = spawnRecorder(store);
    try {
      await recorderReady(rec);
      const evs = await until(async () => {
        const e = await replayJson(store, name);
        return e.some((x) => x.kind === 'lifecycle' && x.action === 'destroy') ? e : undefined;
      }, 20_000, 'the removal reconciled');
      const gaps = evs.filter((e) => e.kind === 'gap');
      expect(gaps.map((g) => g.reason)).toEqual(['recorder-down']);
      expect(Date.parse(String(gaps[0]!.from))).toBeLessThanOrEqual(killedAt);
      expect(Date.parse(String(gaps[0]!.to))).toBeGreaterThanOrEqual(restartedAt);
      // The state at its end (what the TUI and --at show) counts it once.
      const destroyedAt = String(evs.find((x) => x.action === 'destroy')!.time);
      const at = await cli(['replay', '--store', store, '--container', name, '--at', destroyedAt, '--format', 'json']);
      expect(at.code, at.stderr).toBe(0);
      expect((JSON.parse(at.stdout) as { containers: { gaps: number }[] }).containers[0]!.gaps).toBe(1);
      // So does a bundle of it.
      const file = join(await tempDir(), 'gone.dcb');
      const exp = await cli(['export', '--store', store, '--container', name, '--output', file]);
      expect(exp.code, exp.stderr).toBe(0);
      const inBundle = await cli(['replay', '--bundle', file, '--format', 'json']);
      expect(inBundle.stdout.split('\n').filter((l) => l.includes('"kind":"gap"')).length).toBe(1);
      // A container that ran through the downtime shows it once too.
      await until(async () => (await replayJson(store, across)).some((e) => e.kind === 'log' && Date.parse(e.time as string) > restartedAt), 20_000, 'ticks after the restart');
      expect((await replayJson(store, across)).filter((e) => e.kind === 'gap').map((g) => g.reason)).toEqual(['recorder-down']);
    } finally {
      await docker('rm', '-f', acrossId);
      rec.kill('SIGTERM');
      await exited(rec);
    }
  });
});
