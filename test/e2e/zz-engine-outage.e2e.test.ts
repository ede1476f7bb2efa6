/**
 * Issue 8: the engine is stopped for 30 s and started again. The recorder stays up (its query
 * socket answers), reconnects by itself, records the outage as an `engine-unreachable` gap and
 * reconciles: A (--restart always) is back and followed again, B (no restart policy) was stopped
 * by the engine's shutdown, C started after the outage is recorded; all three are in `ls --all`
 * with the right states.
 *
 * This stops the shared test engine, so it must run after every other file: the `zz-` prefix puts
 * it last (vitest.config.ts sorts such files to the end). DASHCAM_TEST_ENV may point at another
 * engine control script (stop-engine/start-engine) to run it against a private engine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { cli, logLines, replayJson, startRecorder, until } from '../helpers/recorder.js';
import type { DockerSource } from '../../recorder/docker/docker-source.js';

const ENGINE_CTL = process.env.DASHCAM_TEST_ENV ?? fileURLToPath(new URL('../../scripts/test-env.sh', import.meta.url));
const OUTAGE_MS = 30_000;
const ctl = async (cmd: string): Promise<void> => void (await promisify(execFile)('bash', [ENGINE_CTL, cmd], { env: process.env }));
const engineUp = async (): Promise<boolean> => (await docker('info', '--format', '{{.ID}}').catch(() => '')) !== '';

afterAll(async () => {
  if (!(await engineUp())) await ctl('start-engine');
  await removeTestContainers();
});

type Row = { name: string; state: string; exitCode: number | null };
async function lsRows(store: string): Promise<Row[]> {
  const ls = await cli(['ls', '--all', '--store', store, '--format', 'json']);
  if (ls.code !== 0) throw new Error(ls.stderr);
  return ls.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
}

describe('engine outage of 30 s (real engine; runs last)', () => {
  it('stays up, reconnects, records the gap and reconciles every container that lived through it', { timeout: 240_000 }, async () => {
    const store = await tempDir();
    const rec = await startRecorder(store);
    const dockerSrc = rec.sources.find((s) => s.name === 'docker')!;
    // PID 1 ignores SIGTERM unless it traps it: without the trap the shutdown waits 10 s per container.
    const loop = (tag: string): string[] => ['sh', '-c', `echo ${tag}-up; trap 'exit 0' TERM; while true; do sleep 1; done`];
    const [a, b, c] = [uniqueName('outage-a'), uniqueName('outage-b'), uniqueName('outage-c')];
    try {
      await runDetached(a, ['--restart', 'always', '--network', 'none'], loop('a'));
      await runDetached(b, ['--network', 'none'], loop('b'));
      for (const n of [a, b]) await until(async () => (await replayJson(store, n)).some((e) => e.kind === 'log'), 20_000, `${n} recorded`);

      const logFrom = logLines.length;
      const stoppedAt = Date.now();
      await ctl('stop-engine');
      await until(async () => dockerSrc.health().state === 'degraded', 20_000, 'the docker source to notice');
      while (Date.now() - stoppedAt < OUTAGE_MS) {
        // Still alive and answering while the engine is gone.
        const st = await cli(['status', '--store', store, '--format', 'json']);
        expect(st.code, st.stderr).toBe(0);
        await new Promise((r) => setTimeout(r, 5000));
      }
      const startedAt = Date.now();
      await ctl('start-engine');
      await until(engineUp, 60_000, 'the engine back');
      await until(async () => dockerSrc.health().state === 'running', 30_000, 'the recorder to reconnect');
      const reconnectMs = Date.now() - startedAt;

      const cid = await runDetached(c, ['--network', 'none'], ['sh', '-c', 'echo c-ran; exit 3']);
      expect(await waitExit(cid)).toBe(3);

      // Reconciled: A running again, B exited by the shutdown, C exited 3; none forgotten.
      const rows = await until(async () => {
        const r = await lsRows(store);
        const by = (n: string): Row | undefined => r.find((x) => x.name === n);
        return by(a)?.state === 'running' && by(b)?.state === 'exited' && by(c)?.exitCode === 3 ? r : undefined;
      }, 30_000, 'A running, B exited, C exited 3 in ls --all');
      expect(rows.filter((r) => [a, b, c].includes(r.name))).toHaveLength(3);
      // B is no longer held as running (no stats polling or log following of a dead container).
      const live = (dockerSrc as unknown as DockerSource).running().map((i) => i.name);
      expect(live).toContain(a);
      expect(live).not.toContain(b);
      // Broken log streams wait for the reconnect instead of retrying (and logging) in a loop.
      expect(logLines.slice(logFrom).filter((l) => /logs of /.test(l)).length).toBeLessThan(10);

      // A's restart by the engine is on its timeline, and its logs are followed again.
      const evA = await until(async () => {
        const e = await replayJson(store, a);
        return e.filter((x) => x.kind === 'log' && x.line === 'a-up').length >= 2 ? e : undefined;
      }, 30_000, "A's log after its restart");
      expect(evA.some((e) => e.kind === 'lifecycle' && e.action === 'start' && Date.parse(String(e.time)) > stoppedAt)).toBe(true);
      const evC = await replayJson(store, c);
      expect(evC.some((e) => e.kind === 'log' && e.line === 'c-ran')).toBe(true);

      // The outage is a recorded gap covering it.
      const gap = evA.find((e) => e.kind === 'gap' && e.reason === 'engine-unreachable');
      expect(gap).toBeDefined();
      const gapMs = Date.parse(String(gap!.to)) - Date.parse(String(gap!.from));
      expect(gapMs).toBeGreaterThan(OUTAGE_MS - 5000);
      console.log(`engine-outage: engine down ${((startedAt - stoppedAt) / 1000).toFixed(1)} s; recorder reconnected ${reconnectMs} ms after the engine was started; gap recorded ${(gapMs / 1000).toFixed(1)} s`);
    } finally {
      if (!(await engineUp())) await ctl('start-engine');
      await rec.stop();
    }
  });
});
