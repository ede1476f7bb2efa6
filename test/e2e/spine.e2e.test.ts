/**
 * Issue 2 acceptance, against the real engine: record containers that come and go, read them
 * back after they are gone, through the CLI (while the recorder runs: over its query socket;
 * after it stopped: from the store directly).
 */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { cli, replayJson, until, useRecorders } from '../helpers/recorder.js';

const recorders = useRecorders();

const actions = (evs: Record<string, unknown>[]): string[] => evs.filter((e) => e.kind === 'lifecycle').map((e) => e.action as string);
const logsOf = (evs: Record<string, unknown>[]): [string, string][] => evs.filter((e) => e.kind === 'log').map((e) => [e.stream as string, e.line as string]);

describe('recording spine (real engine)', () => {
  it('keeps lifecycle, snapshot and logs of a container that exited 3 and was removed, across a recorder restart', async () => {
    const store = await tempDir();
    const rec = await recorders.start(store);
    const name = uniqueName('exit3');
    const id = await runDetached(name, ['-e', 'DB_PASSWORD=hunter2-very-secret', '-e', 'PLAIN=visible'], ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; echo second-line; exit 3']);
    expect(await waitExit(id)).toBe(3);
    await docker('rm', id);
    await until(async () => actions(await replayJson(store, name)).includes('destroy'), 15_000, 'destroy recorded');

    const check = async (): Promise<void> => {
      const evs = await replayJson(store, name);
      const acts = actions(evs);
      const order = ['create', 'start', 'die', 'destroy'].map((a) => acts.indexOf(a));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      const die = evs.find((e) => e.kind === 'lifecycle' && e.action === 'die')!;
      expect((die.attributes as Record<string, string>).exitCode).toBe('3');
      expect(evs.filter((e) => !(e.container === id && typeof e.seq === 'number' && /^\d{4}-.*\.\d{6}Z$/.test(e.time as string)))).toEqual([]);
      const snap = evs.find((e) => e.kind === 'snapshot')!.snapshot as { Config: { Env: string[] } };
      expect(snap.Config.Env).toContain('PLAIN=visible');
      // The engine stamps stdout and stderr with independent copiers, so only each stream's own order
      // is defined; replay orders by those engine times.
      const logs = logsOf(evs);
      expect(logs.filter(([st]) => st === 'stdout')).toEqual([['stdout', 'to-stdout'], ['stdout', 'second-line']]);
      expect(logs.filter(([st]) => st === 'stderr')).toEqual([['stderr', 'to-stderr']]);
      const text = await cli(['replay', '--store', store, '--container', id.slice(0, 10), '--format', 'text']);
      for (const out of [JSON.stringify(evs), text.stdout]) expect(out).not.toContain('hunter2-very-secret');
    };
    await check(); // over the query socket: the recorder holds the store
    await rec.stop();
    await check(); // directly from the store
    await recorders.start(store);
    await check(); // after a restart
  });

  it('records an OOM kill: oom, die 137 and a snapshot saying OOMKilled', async () => {
    const store = await tempDir();
    await recorders.start(store);
    const name = uniqueName('oom');
    const id = await runDetached(name, ['-m', '16m', '--memory-swap', '16m'], ['sh', '-c', 'x=aaaaaaaa; while true; do x=$x$x; done']);
    expect(await waitExit(id)).toBe(137);
    const evs = await until(async () => {
      const e = await replayJson(store, name);
      return e.some((x) => x.kind === 'snapshot' && (x.snapshot as { State: { OOMKilled: boolean } }).State.OOMKilled) ? e : undefined;
    }, 15_000, 'OOM snapshot');
    const acts = actions(evs);
    expect(acts).toContain('oom');
    const die = evs.find((e) => e.kind === 'lifecycle' && e.action === 'die')!;
    expect((die.attributes as Record<string, string>).exitCode).toBe('137');
    expect(acts.indexOf('oom')).toBeLessThan(acts.indexOf('die'));
    const ls = JSON.parse((await cli(['ls', '--all', '--store', store, '--format', 'json'])).stdout.split('\n')[0]!) as Record<string, unknown>;
    expect(ls).toMatchObject({ id, exitCode: 137, oomKilled: true });
  });

  it('adopts a container started while the recorder was down and records the gap', async () => {
    const store = await tempDir();
    const first = await recorders.start(store);
    await first.stop();
    const name = uniqueName('while-down');
    const id = await runDetached(name, [], ['sh', '-c', 'echo early; sleep 3; echo late; sleep 30']);
    await new Promise((r) => setTimeout(r, 500));
    await recorders.start(store);
    const evs = await until(async () => {
      const e = await replayJson(store, name);
      return logsOf(e).some(([, l]) => l === 'late') ? e : undefined;
    }, 20_000, 'late log line');
    expect(evs.some((e) => e.kind === 'snapshot')).toBe(true);
    expect(actions(evs)).toContain('start'); // the engine hands back events since the last run
    const gaps = evs.filter((e) => e.kind === 'gap');
    expect(gaps.map((g) => g.reason)).toContain('recorder-down');
    await docker('rm', '-f', id);
  });

  it('stores a 64 KiB line, invalid UTF-8 and 10,000 lines in a second without loss', async () => {
    const store = await tempDir();
    await recorders.start(store);
    const name = uniqueName('logstorm');
    const script = [
      "head -c 65536 /dev/zero | tr '\\0' 'x'; echo",
      "printf 'bad\\377\\376bytes\\n'",
      'i=0; while [ $i -lt 10000 ]; do echo "line $i"; i=$((i+1)); done',
    ].join('; ');
    const id = await runDetached(name, [], ['sh', '-c', script]);
    expect(await waitExit(id)).toBe(0);
    const evs = await until(async () => {
      const e = await replayJson(store, name);
      return e.filter((x) => x.kind === 'log').length >= 10_002 ? e : undefined;
    }, 30_000, '10,002 log lines');
    const logs = evs.filter((e) => e.kind === 'log');
    expect(logs.length).toBe(10_002);
    expect((logs[0]!.line as string).length).toBe(65536);
    expect(logs[0]!.truncated).toBeUndefined();
    // The engine's json-file log driver already turns invalid UTF-8 into U+FFFD before anyone can
    // read it back; dashcam keeps whatever bytes it gets (lineBase64 when they are not UTF-8).
    const bad = logs[1]!;
    const bytes = bad.lineBase64 === undefined ? Buffer.from(bad.line as string) : Buffer.from(bad.lineBase64 as string, 'base64');
    expect([Buffer.from('bad\xff\xfebytes', 'latin1'), Buffer.from('bad\ufffd\ufffdbytes')]).toContainEqual(bytes);
    expect(logs.slice(2).map((l) => l.line)).toEqual(Array.from({ length: 10_000 }, (_, i) => `line ${i}`));
    await docker('rm', id);
  });

  it('answers an unknown container with a one-line error and a non-zero exit', async () => {
    const store = await tempDir();
    const rec = await recorders.start(store);
    await rec.stop();
    const r = await cli(['replay', '--store', store, '--container', 'no-such-container', '--format', 'json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no container matching/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

});
