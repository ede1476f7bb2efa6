/**
 * Issue 26: `replay --follow` starts at the live edge and keeps up with a running container: the
 * TUI shows a new log line within seconds, and `--format json|text` stream like `tail -f`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, runDetached, uniqueName } from '../helpers/engine.js';
import { CLI, exited, replayJson, until, useRecorders } from '../helpers/recorder.js';
import { tmuxSession } from '../helpers/tmux.js';

const recorders = useRecorders();
const t = tmuxSession('dashcam-follow');
afterEach(() => t.kill());

/** A container that logs `tick N` once a second. */
async function ticking(store: string): Promise<{ name: string; id: string }> {
  await recorders.start(store);
  const name = uniqueName('follow');
  const id = await runDetached(name, [], ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done']);
  await until(async () => (await replayJson(store, name)).some((e) => e.line === 'tick 1'), 15_000, 'tick 1 stored');
  return { name, id };
}

describe('replay --follow (real engine)', () => {
  it('--format json and text stream new lines, each once, until interrupted', { timeout: 60_000 }, async () => {
    const store = await tempDir();
    const { name, id } = await ticking(store);
    try {
      for (const format of ['json', 'text']) {
        const child = spawn(process.execPath, [CLI, 'replay', '--store', store, '--container', name, '--follow', '--format', format], { stdio: ['ignore', 'pipe', 'pipe'] });
        const ticks: number[] = [];
        const lines = createInterface({ input: child.stdout });
        lines.on('line', (l) => {
          const m = format === 'json' ? /^tick (\d+)$/.exec(String((JSON.parse(l) as { line?: string }).line ?? '')) : /\blog\s+(?:stdout\s+)?.*tick (\d+)$/.exec(l);
          if (m) ticks.push(Number(m[1]));
        });
        // What was stored before, then at least three lines logged after the replay started.
        const first = await until(async () => ticks.length > 0 && ticks[ticks.length - 1], 10_000, `${format}: first lines`);
        await until(async () => ticks[ticks.length - 1]! >= first + 3, 10_000, `${format}: lines logged after the start`);
        expect(child.exitCode).toBeNull();
        child.kill('SIGINT');
        await exited(child);
        expect(ticks, format).toEqual(Array.from({ length: ticks.length }, (_, i) => ticks[0]! + i));
      }
    } finally {
      await docker('rm', '-f', id);
    }
  });

  it('the TUI opens at the live edge and shows a new log line within 2 s', { timeout: 60_000 }, async () => {
    const store = await tempDir();
    const { name, id } = await ticking(store);
    try {
      await t.open(`${process.execPath} ${CLI} replay --store ${store} --container ${name} --follow; sleep 30`, 100, 30);
      const ticksOnScreen = async (): Promise<number[]> => [...(await t.screen()).matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      const opened = await until(async () => { const t = await ticksOnScreen(); return t.length ? Math.max(...t) : undefined; }, 10_000, 'first screen');
      // Opened live: the newest line stored is on the first screen, not the container's first.
      const stored = (await replayJson(store, name)).filter((e) => e.kind === 'log').length;
      expect(opened).toBeGreaterThanOrEqual(stored - 3);
      const t0 = Date.now();
      await until(async () => Math.max(...(await ticksOnScreen())) > opened, 3_000, 'a new line on screen');
      expect(Date.now() - t0).toBeLessThan(2_500);
    } finally {
      await docker('rm', '-f', id);
    }
  });
});
