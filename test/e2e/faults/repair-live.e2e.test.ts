/**
 * Issue 26: `dashcam repair` on a store a recorder is writing refuses before it touches a byte
 * (LevelDB's repair does not take the LOCK, so an unchecked repair moves the live MANIFEST away);
 * the recorder stops cleanly afterwards and the store opens with every event.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-store.js';
import { docker, removeTestContainers, runDetached, uniqueName } from '../../helpers/engine.js';
import { cli, exited, recorderReady, replayJson, spawnRecorder, until } from '../../helpers/recorder.js';
import { SOCKET_NAME } from '../../../formats/frames.js';

afterAll(removeTestContainers);
const LINES = 500;

/** A checksum of every file in the store (the socket is not a file and is left out). */
async function checksums(dir: string): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    if (name === SOCKET_NAME || !(await stat(join(dir, name))).isFile()) continue;
    sums.set(name, createHash('sha256').update(await readFile(join(dir, name))).digest('hex'));
  }
  return sums;
}

describe('repair on a store being recorded (real engine)', () => {
  it('refuses naming the recorder, changes nothing, and the store keeps every event', { timeout: 90_000 }, async () => {
    const store = await tempDir();
    const rec = spawnRecorder(store);
    await recorderReady(rec);
    const name = uniqueName('repair-live');
    const id = await runDetached(name, [], ['sh', '-c', `i=0; while [ $i -lt ${LINES} ]; do echo "line $i"; i=$((i+1)); done; sleep 3600`]);
    try {
      await until(async () => (await replayJson(store, name)).filter((e) => e.kind === 'log').length === LINES, 30_000, 'every line stored');
      // Quiet now: the container only sleeps and stats are off, so the files stay as they are.
      await new Promise((r) => setTimeout(r, 500));
      const before = await checksums(store);
      const r = await cli(['repair', '--store', store]);
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`held by process ${rec.pid}\\b.*nothing was changed \\[STORE_LOCKED\\]$`));
      expect(await checksums(store)).toEqual(before);
      expect((await readdir(join(store, '..'))).filter((n) => n.startsWith(`${store.split('/').pop()}.`))).toEqual([]);
    } finally {
      await docker('rm', '-f', id);
      rec.kill('SIGTERM');
      await exited(rec);
    }
    expect(rec.exitCode).toBe(0);
    const evs = await replayJson(store, name);
    const logs = evs.filter((e) => e.kind === 'log').map((e) => e.line);
    expect(logs).toEqual(Array.from({ length: LINES }, (_, i) => `line ${i}`));
  });
});
