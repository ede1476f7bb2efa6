/**
 * Starting the recorder while a reader holds the store (a `replay` run when no recorder was up)
 * waits for the reader; a second recorder on a recorded store is refused at once.
 */
import { describe, expect, it } from 'vitest';
import { openLevelStore } from '../../formats/level-store.js';
import { tempDir } from '../helpers/temp-store.js';
import { exited, recorderReady, spawnRecorder } from '../helpers/recorder.js';

describe('store lock at recorder start (real engine)', () => {
  it('waits for a reader to let go, and refuses a second recorder', { timeout: 60_000 }, async () => {
    const store = await tempDir();
    const reader = await openLevelStore(store, { create: true });
    const rec = spawnRecorder(store);
    const ready = recorderReady(rec);
    let started = false;
    void ready.then(() => (started = true), () => undefined);
    await new Promise((r) => setTimeout(r, 1500));
    expect(started).toBe(false);
    expect(rec.exitCode).toBeNull();
    await reader.close();
    await ready;
    try {
      const second = spawnRecorder(store);
      let err = '';
      second.stderr?.on('data', (c: Buffer) => (err += c.toString()));
      const t0 = Date.now();
      await exited(second);
      expect(second.exitCode).toBe(1);
      expect(err).toMatch(/already being recorded by another dashcam record \[STORE_LOCKED\]/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      rec.kill('SIGTERM');
      await exited(rec);
    }
  });
});
