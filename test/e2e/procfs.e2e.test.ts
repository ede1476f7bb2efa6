/**
 * Issue 3 acceptance for the /proc fallback (`--sources docker,procfs`): a long-running process
 * and a listening socket in a container are recorded, marked as polled (source 'procfs').
 */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, runDetached, uniqueName } from '../helpers/engine.js';
import { logLines, replayJson, until, useRecorders } from '../helpers/recorder.js';

const recorders = useRecorders();

describe('/proc polling source (real engine)', () => {
  it('records a long-running process and a listening socket, marked as polled', async () => {
    const store = await tempDir();
    await recorders.start(store, { sources: ['docker', 'procfs'], pollMs: 300 });
    const name = uniqueName('procfs');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const id = await runDetached(name, [], ['sh', '-c', `nc -l -p ${port} & sleep 300`]);
    const evs = await until(async () => {
      const e = await replayJson(store, name);
      const ok = e.some((x) => x.kind === 'exec' && (x.argv as string[])[0] === 'sleep') && e.some((x) => x.kind === 'net' && x.op === 'listen');
      return ok ? e : undefined;
    }, 20_000, 'polled process and socket');
    const polled = evs.filter((e) => e.kind === 'exec' || e.kind === 'net');
    expect(polled.every((e) => e.source === 'procfs' && e.container === id)).toBe(true);
    expect(polled.find((e) => e.kind === 'exec' && (e.argv as string[])[0] === 'sleep')).toMatchObject({ argv: ['sleep', '300'], procKey: expect.stringMatching(/^\d+:\d+$/) });
    expect(polled.find((e) => e.kind === 'net' && e.op === 'listen')).toMatchObject({ proto: 'tcp', state: 'LISTEN', local: expect.stringMatching(new RegExp(`:${port}$`)) });
    await docker('rm', '-f', id);
    await until(async () => (await replayJson(store, name)).some((e) => e.kind === 'exit' && e.source === 'procfs'), 15_000, 'polled exit');
  });

  it('says which kernel-level source it chose and why, in one line', async () => {
    const store = await tempDir();
    const before = logLines.length;
    await recorders.start(store, { sources: ['docker', 'procfs'] });
    const lines = logLines.slice(before).filter((l) => l.includes('kernel-level capture'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\/proc polling .*short-lived processes are not seen/);
  });
});
