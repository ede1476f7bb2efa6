/**
 * The engine restarts while the recorder runs: the recorder reconnects by itself, records the gap,
 * and records containers started after it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { replayJson, startRecorder, until } from '../helpers/recorder.js';

/** The script that controls the engine the suite runs against (the one that started it). */
const TEST_ENV = process.env.DASHCAM_TEST_ENV ?? fileURLToPath(new URL('../../scripts/test-env.sh', import.meta.url));
afterAll(removeTestContainers);

describe('engine restart (real engine)', () => {
  it('reconnects, records a gap, and records containers started afterwards', async () => {
    const store = await tempDir();
    const rec = await startRecorder(store);
    try {
      const before = uniqueName('before-restart');
      const id1 = await runDetached(before, [], ['sh', '-c', 'echo one']);
      await waitExit(id1);
      await promisify(execFile)('bash', [TEST_ENV, 'restart-engine'], { env: process.env });
      await until(async () => (await docker('info', '--format', '{{.ID}}')) !== '', 60_000, 'engine back');
      const after = uniqueName('after-restart');
      const id2 = await runDetached(after, [], ['sh', '-c', 'echo two; exit 4']);
      expect(await waitExit(id2)).toBe(4);
      const evs = await until(async () => {
        const e = await replayJson(store, after);
        return e.some((x) => x.kind === 'log' && x.line === 'two') && e.some((x) => x.action === 'die') ? e : undefined;
      }, 30_000, 'container after restart recorded');
      expect(evs.filter((e) => e.kind === 'lifecycle').map((e) => e.action)).toEqual(expect.arrayContaining(['create', 'start', 'die']));
      // Every container that existed during the outage shows the gap once (its own copy; the
      // host's is not merged in as well).
      const firstEvs = await replayJson(store, before, ['--until', '+1h']);
      expect(firstEvs.filter((e) => e.kind === 'gap').map((e) => e.reason)).toEqual(['engine-unreachable']);
      expect(rec.sources[0]!.health().state).toBe('running');
    } finally {
      await rec.stop();
    }
  });
});
