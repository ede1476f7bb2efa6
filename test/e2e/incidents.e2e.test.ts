/**
 * Issue 5 acceptance, incidents, against the real engine: an OOM kill gets an incident whose
 * window covers the seconds before the kill; exit 0 gets none; non-zero exits, docker exec of a
 * shell and manual marks (through the recorder and without one) become incidents.
 */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { cli, exited, recorderReady, replayJson, spawnRecorder, until, useRecorders } from '../helpers/recorder.js';

const recorders = useRecorders();

type Row = Record<string, unknown>;
async function incidents(store: string, ...args: string[]): Promise<Row[]> {
  const r = await cli(['incidents', '--store', store, '--format', 'json', ...args]);
  if (r.code !== 0) throw new Error(`incidents failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
}
const us = (t: unknown): number => Date.parse(String(t).slice(0, 23) + 'Z') * 1000 + Number(String(t).slice(23, 26));
const lifecycle = (evs: Row[], action: string): Row | undefined => evs.find((e) => e.kind === 'lifecycle' && e.action === action);

describe('incidents (real engine)', () => {
  it('an OOM-killed container gets one incident whose window covers the seconds before the kill; exit 0 gets none', async () => {
    const store = await tempDir();
    await recorders.start(store);
    const ok = await runDetached(uniqueName('ok'), [], ['sh', '-c', 'echo fine; sleep 1; exit 0']);
    const name = uniqueName('oom');
    const id = await runDetached(name, ['-m', '16m', '--memory-swap', '16m'], ['sh', '-c', 'echo filling; sleep 2; x=a; while true; do x=$x$x; done']);
    expect(await waitExit(id)).toBe(137);
    expect(await waitExit(ok)).toBe(0);
    const [inc] = await until(async () => {
      const l = await incidents(store, '--container', name);
      return l.length ? l : undefined;
    }, 15_000, 'OOM incident');
    expect(inc).toMatchObject({ container: id, trigger: 'oom', severity: 'high', pinned: true });
    const evs = await replayJson(store, name);
    const startEv = lifecycle(evs, 'start')!;
    const die = lifecycle(evs, 'die')!;
    expect(us(inc!.windowStart)).toBeLessThanOrEqual(us(startEv.time)); // covers the whole life, > 2 s before the kill
    expect(us(inc!.windowEnd)).toBeGreaterThanOrEqual(us(die.time));
    expect(us(die.time) - us(startEv.time)).toBeGreaterThan(2e6);
    // The marker is on the container's timeline, between the OOM and the end of the window.
    const marker = evs.find((e) => e.kind === 'incident')!;
    expect(marker).toMatchObject({ id: inc!.id, trigger: 'oom', container: id });
    // A window read replays the log line from before the kill.
    const win = await replayJson(store, name, ['--since', String(inc!.windowStart), '--until', String(inc!.windowEnd)]);
    expect(win.some((e) => e.kind === 'log' && e.line === 'filling')).toBe(true);
    expect(await incidents(store, '--container', ok)).toEqual([]);
    // The die 137 merged into the OOM, not a second incident. (The engine is shared: other
    // containers on it may have incidents of their own, so filter by container.)
    expect(await incidents(store, '--container', name)).toHaveLength(1);
  });

  it('non-zero exit, an interactive shell by docker exec; a requested docker stop is not an incident', async () => {
    const store = await tempDir();
    await recorders.start(store);
    const bad = await runDetached(uniqueName('exit3'), [], ['sh', '-c', 'exit 3']);
    const svc = await runDetached(uniqueName('svc'), [], ['sh', '-c', 'sleep 300']);
    await docker('exec', svc, 'sh');
    await docker('exec', svc, 'sh', '-c', 'true');
    await docker('stop', '-t', '1', svc);
    expect(await waitExit(bad)).toBe(3);
    const mine = (l: Row[]): Row[] => l.filter((i) => i.container === bad || i.container === svc);
    const byC = await until(async () => {
      const l = mine(await incidents(store));
      return l.length >= 2 ? l : undefined;
    }, 15_000, 'two incidents');
    await new Promise((r) => setTimeout(r, 1000));
    const l = mine(await incidents(store));
    expect(l.find((i) => i.container === bad)).toMatchObject({ trigger: 'exit', title: expect.stringMatching(/exited with code 3/) });
    const onSvc = l.filter((i) => i.container === svc);
    expect(onSvc).toHaveLength(1);
    expect(onSvc[0]).toMatchObject({ trigger: 'interactive-shell', triggers: ['interactive-shell'] });
    expect(byC.length).toBe(2);
  });

  it('activity rules over eBPF: sensitive read, write below /etc, drift, package manager', async () => {
    const store = await tempDir();
    const rec = await recorders.start(store, { sources: ['docker', 'ebpf'] });
    expect(rec.sources.map((s) => s.name)).toContain('ebpf');
    const name = uniqueName('rules');
    const id = await runDetached(name, [], ['sh', '-c', 'sleep 2; cat /etc/shadow >/dev/null; echo x > /etc/dashcam-was-here; cp /bin/busybox /tmp/bb; /tmp/bb true; cp /bin/busybox /tmp/apk; /tmp/apk true; sleep 1']);
    expect(await waitExit(id)).toBe(0);
    const [inc] = await until(async () => {
      const l = await incidents(store, '--container', name);
      return l.length && (l[0]!.triggers as string[]).length >= 4 ? l : undefined;
    }, 20_000, 'rule incidents');
    expect(inc!.triggers).toEqual(expect.arrayContaining(['sensitive-read', 'write-below-system', 'drift', 'package-manager']));
    const markers = (await replayJson(store, name)).filter((e) => e.kind === 'incident').map((e) => e.trigger);
    expect(markers).toEqual(expect.arrayContaining(['sensitive-read', 'write-below-system', 'drift', 'package-manager']));
  });

  it('dashcam mark through the recorder, and directly after it stopped', async () => {
    const store = await tempDir();
    const rec = await recorders.start(store);
    const name = uniqueName('marked');
    const id = await runDetached(name, [], ['sh', '-c', 'echo hello; sleep 300']);
    await until(async () => (await replayJson(store, name)).some((e) => e.kind === 'log'), 15_000, 'log line');
    const m = await cli(['mark', '--store', store, '--container', name, '--note', 'slow responses', '--before', '1m', '--after', '30s', '--format', 'json']);
    expect(m.code).toBe(0);
    const marked = JSON.parse(m.stdout) as Row;
    expect(us(marked.windowEnd) - us(marked.windowStart)).toBe(90e6);
    const [inc] = await incidents(store, '--container', id);
    expect(inc).toMatchObject({ id: marked.id, trigger: 'manual', note: 'slow responses', title: 'marked: slow responses' });
    expect((await replayJson(store, name)).some((e) => e.kind === 'incident' && e.id === marked.id)).toBe(true);
    // A second mark is its own incident: both notes and both windows are kept.
    const m2 = await cli(['mark', '--store', store, '--container', name, '--note', 'errors in checkout', '--before', '2m', '--after', '1m', '--format', 'json']);
    expect(m2.code, m2.stderr).toBe(0);
    const marked2 = JSON.parse(m2.stdout) as Row;
    expect(marked2.id).not.toBe(marked.id);
    const both = await incidents(store, '--container', id);
    expect(both.map((i) => [i.note, us(i.windowEnd) - us(i.windowStart)]).sort()).toEqual([['errors in checkout', 180e6], ['slow responses', 90e6]]);
    await rec.stop();
    const later = await cli(['mark', '--store', store, '--container', id.slice(0, 12), '--after', '10m']);
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(/^incident [0-9a-z]{11} on /);
    const l = await incidents(store, '--container', name);
    expect(l).toHaveLength(3);
    expect((await replayJson(store, name)).filter((e) => e.kind === 'incident')).toHaveLength(3);
    const bad = await cli(['mark', '--store', store, '--container', 'no-such-thing']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no container matching/);
    await docker('rm', '-f', id);
  });

  it('lists incidents by container with what each window holds (gaps, lost, notable) and the command that opens it', async () => {
    const store = await tempDir();
    let rec = spawnRecorder(store);
    await recorderReady(rec);
    const name = uniqueName('inc-gap');
    const id = await runDetached(name, [], ['sh', '-c', 'echo before; sleep 5; echo after; exit 3']);
    try {
      await until(async () => (await replayJson(store, name)).some((e) => e.kind === 'log'), 15_000, 'the first line');
      // The recorder dies without a word; its successor records the hole.
      rec.kill('SIGKILL');
      await exited(rec);
      rec = spawnRecorder(store);
      await recorderReady(rec);
      expect(await waitExit(id)).toBe(3);
      const inc = await until(async () => (await incidents(store)).find((i) => i.container === id && i.trigger === 'exit'), 20_000, 'the exit incident');
      expect(inc.gaps).toBeGreaterThanOrEqual(1);
      expect(typeof inc.lost).toBe('number');
      expect(inc.notable).toMatchObject({ die: 1 });
      const text = await cli(['incidents', '--store', store, '--container', name]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(`${name} (${id.slice(0, 12)}): 1 incident\n`);
      expect(text.stdout).toMatch(/notable: [^\n]*1 non-zero exit[^\n]*; window has gaps: [1-9]/);
      expect(text.stdout).toContain(`next: dashcam replay --incident ${inc.id as string}`);
    } finally {
      await docker('rm', '-f', id);
      rec.kill('SIGTERM');
      await exited(rec);
    }
  });

  it('samples a container\'s stats every second while its incident window is open', async () => {
    const store = await tempDir();
    await recorders.start(store, { statsIntervalMs: 10_000 });
    const name = uniqueName('inc-boost');
    const id = await runDetached(name, [], ['sh', '-c', 'sleep 60']);
    try {
      await until(async () => (await replayJson(store, name)).some((e) => e.action === 'start'), 15_000, 'the start');
      const marked = await cli(['mark', '--store', store, '--container', name, '--note', 'slow', '--after', '1m']);
      expect(marked.code, marked.stderr).toBe(0);
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 4500));
      const after = (await replayJson(store, name)).filter((e) => e.kind === 'stats' && Date.parse(e.time as string) >= since);
      // At the 10 s interval there would be at most one.
      expect(after.length).toBeGreaterThanOrEqual(3);
    } finally {
      await docker('rm', '-f', id);
    }
  });
});
