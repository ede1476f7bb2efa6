/**
 * Issue 3 acceptance with eBPF on, against the real engine: processes, files and connections
 * inside containers, attributed to the right container, in order; short-lived containers;
 * 3,000 execs in a tight loop; two containers at once. One recorder serves the whole file
 * because bpftrace takes several seconds to compile and attach its probes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE, LABEL, docker, removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { replayJson, startEbpfRecorder, until } from '../helpers/recorder.js';
import type { Recorder } from '../../recorder/record.js';

type Ev = Record<string, unknown>;
const run = promisify(execFile);
let store: string;
let rec: Recorder;

beforeAll(async () => {
  await removeTestContainers();
  store = await mkdtemp(join(tmpdir(), 'dashcam-ebpf-e2e-'));
  rec = await startEbpfRecorder(store);
}, 180_000);
afterAll(async () => {
  await rec?.stop();
  await removeTestContainers();
  if (store) await rm(store, { recursive: true, force: true });
});

const ebpf = (evs: Ev[]): Ev[] => evs.filter((e) => e.source === 'ebpf');
const execs = (evs: Ev[]): Ev[] => evs.filter((e) => e.kind === 'exec' && e.source === 'ebpf');
const settled = async (name: string, ok: (evs: Ev[]) => boolean, ms = 30_000): Promise<Ev[]> =>
  until(async () => { const e = await replayJson(store, name); return ok(e) ? e : undefined; }, ms, `events of ${name}`);

describe('eBPF capture (real engine)', () => {
  it('records execs with argv, exits with codes, file changes, a sensitive read and a loopback connection, in order', async () => {
    const name = uniqueName('ebpf-accept');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const script = [
      'i=0; while [ $i -lt 5 ]; do /bin/true; i=$((i+1)); done',
      'cat /etc/shadow > /dev/null',
      'echo x > /tmp/f; mv /tmp/f /tmp/g; rm /tmp/g; touch /tmp/h; chmod 755 /tmp/h',
      `nc -l -p ${port} > /dev/null & sleep 0.5`,
      `echo hello | nc 127.0.0.1 ${port}`,
      'wait; exit 0',
    ].join('; ');
    const id = await runDetached(name, [], ['sh', '-c', script]);
    expect(await waitExit(id)).toBe(0);
    const evs = await settled(name, (e) => e.some((x) => x.kind === 'exit' && x.source === 'ebpf' && x.comm === 'sh') && e.some((x) => x.kind === 'lifecycle' && x.action === 'die'));
    const mine = ebpf(evs);
    expect(mine.length).toBeGreaterThan(10);
    expect(mine.every((e) => e.container === id)).toBe(true);

    const ex = execs(evs);
    // bpftrace 0.17 prints at most 199 bytes of one argument; a cut one ends in '…'.
    expect(ex[0]).toMatchObject({ exe: '/bin/sh', argv: ['sh', '-c', `${script.slice(0, 199)}…`], cwd: '/', uid: 0 });
    expect(ex.filter((e) => e.exe === '/bin/true' && (e.argv as string[])[0] === '/bin/true')).toHaveLength(5);
    // busybox runs mv, rm, touch and chmod in a forked child without exec: they appear as forks.
    for (const argv of [['cat', '/etc/shadow'], ['nc', '-l', '-p', String(port)], ['nc', '127.0.0.1', String(port)]]) {
      expect(ex.map((e) => e.argv)).toContainEqual(argv);
    }
    // Each exec'd process has an exit with its code, keyed by the same process identity.
    const exits = new Map(mine.filter((e) => e.kind === 'exit').map((e) => [e.procKey as string, e]));
    for (const e of ex) expect(exits.get(e.procKey as string), `exit of ${JSON.stringify(e.argv)}`).toMatchObject({ exitCode: 0 });
    const shell = ex[0]!;
    const children = new Set(mine.filter((e) => e.kind === 'fork' && e.parentKey === shell.procKey).map((e) => e.procKey));
    for (const op of ['rename', 'unlink', 'chmod']) {
      expect(mine.filter((e) => e.kind === 'file' && e.op === op).every((e) => children.has(e.procKey)), `${op} by a child of the shell`).toBe(true);
    }
    expect(ex.slice(1).filter((e) => e.exe === '/bin/true').every((e) => e.parentKey === shell.procKey)).toBe(true);

    const idx = (pred: (e: Ev) => boolean, what: string): number => {
      const i = mine.findIndex(pred);
      expect(i, what).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      idx((e) => e.kind === 'file' && e.op === 'read-sensitive' && e.path === '/etc/shadow', 'sensitive read'),
      idx((e) => e.kind === 'file' && e.op === 'create' && e.path === '/tmp/f', 'write of /tmp/f'),
      idx((e) => e.kind === 'file' && e.op === 'rename' && e.path === '/tmp/f' && e.newPath === '/tmp/g', 'rename'),
      idx((e) => e.kind === 'file' && e.op === 'unlink' && e.path === '/tmp/g', 'unlink'),
      idx((e) => e.kind === 'file' && e.op === 'chmod' && e.path === '/tmp/h' && e.mode === 0o755, 'chmod'),
      idx((e) => e.kind === 'net' && e.op === 'listen' && String(e.local).endsWith(`:${port}`), 'listen'),
      idx((e) => e.kind === 'net' && e.op === 'connect' && e.remote === `127.0.0.1:${port}` && e.proto === 'tcp', 'connect'),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const connect = mine[order[6]!]!;
    const accept = mine[idx((e) => e.kind === 'net' && e.op === 'accept' && e.local === `127.0.0.1:${port}`, 'accept')]!;
    expect(accept.remote).toBe(connect.local);
    expect(mine.filter((e) => e.kind === 'net' && e.op === 'close').length).toBeGreaterThanOrEqual(1);
    // Replay order is time order.
    const times = evs.map((e) => e.time as string);
    expect([...times].sort()).toEqual(times);
  });

  it('gives an OOM-killed container that lived 4 s a memory sample from its death', async () => {
    const name = uniqueName('ebpf-oom');
    // No stats polling in tests (statsIntervalMs 0): the only sample is the kernel's at the kill.
    const id = await runDetached(name, ['-m', '16m', '--memory-swap', '16m'], ['sh', '-c', 'sleep 3; x=a; while true; do x=$x$x; done']);
    expect(await waitExit(id)).toBe(137);
    const evs = await settled(name, (e) => e.some((x) => x.kind === 'lifecycle' && x.action === 'oom') && e.some((x) => x.kind === 'stats'));
    const oom = evs.find((x) => x.kind === 'lifecycle' && x.action === 'oom')!;
    const sample = evs.find((x) => x.kind === 'stats')!;
    expect(sample).toMatchObject({ source: 'ebpf', sample: 'oom-victim', container: id });
    // The victim held most of the 16 MiB limit when it was chosen (its resident set also counts
    // shared file pages, which may be charged elsewhere, so it can pass the limit a little).
    expect(sample.memUsage as number).toBeGreaterThan(8 * 1048576);
    expect(sample.memUsage as number).toBeLessThanOrEqual(24 * 1048576);
    const at = (e: Ev): number => Date.parse(e.time as string);
    expect(Math.abs(at(sample) - at(oom))).toBeLessThan(1000);
  });

  it('gives a removed container nothing of the namespaces made after it (its mount namespace inode is reused)', async () => {
    const gone: { id: string; name: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const name = uniqueName('ebpf-reuse');
      const id = await runDetached(name, [], ['sh', '-c', 'echo up; sleep 60']);
      await settled(name, (e) => e.some((x) => x.kind === 'exec' && x.source === 'ebpf') || e.some((x) => x.action === 'start'), 15_000);
      await docker('rm', '-f', id);
      gone.push({ id, name });
      // The host makes fresh mount namespaces at once (as runc, unshare and image extraction do),
      // held open together: the kernel hands them the lowest free inode numbers, among them the
      // ones the container's namespaces just freed (its mount namespace's too).
      await Promise.all(Array.from({ length: 12 }, () => run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /mnt && ls /mnt && cat /etc/hostname >/dev/null && sleep 2'])));
    }
    await new Promise((r) => setTimeout(r, 4000)); // past the attribution hold
    for (const g of gone) {
      const evs = await settled(g.name, (e) => e.some((x) => x.action === 'destroy'));
      const destroyedAt = Date.parse(evs.find((x) => x.action === 'destroy')!.time as string);
      const after = evs.filter((x) => Date.parse(x.time as string) > destroyedAt && x.source === 'ebpf');
      expect(after, `${g.name}: kernel events after its destroy`).toEqual([]);
      expect(evs.filter((x) => x.kind === 'exec' && JSON.stringify(x.argv ?? []).includes('mount -t tmpfs')), g.name).toEqual([]);
    }
  });

  it('attributes the exec and exit of a container that lives under a second', async () => {
    const name = uniqueName('ebpf-brief');
    await docker('run', '--rm', '--label', LABEL, '--name', name, IMAGE, 'true');
    const evs = await settled(name, (e) => e.some((x) => x.kind === 'exit' && x.source === 'ebpf'));
    const id = evs.find((e) => e.kind === 'lifecycle')!.container as string;
    const ex = execs(evs);
    expect(ex).toHaveLength(1);
    expect(ex[0]).toMatchObject({ container: id, exe: '/bin/true', argv: ['true'] });
    expect(evs.find((e) => e.kind === 'exit' && e.source === 'ebpf')).toMatchObject({ container: id, exitCode: 0, procKey: ex[0]!.procKey });
  });

  it('records 3,000 execs in a tight loop, or the shortfall as a gap', async () => {
    const name = uniqueName('ebpf-storm');
    const id = await runDetached(name, [], ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do /bin/true; i=$((i+1)); done']);
    expect(await waitExit(id)).toBe(0);
    const count = (e: Ev[]): number => execs(e).filter((x) => x.exe === '/bin/true').length;
    const lostIn = (e: Ev[]): number => e.filter((x) => x.kind === 'gap' && x.reason === 'ebpf-lost').reduce((n, g) => n + (g.lost as number), 0);
    const evs = await settled(name, (e) => count(e) + lostIn(e) >= 3000 && e.some((x) => x.kind === 'exit' && x.comm === 'sh'), 60_000);
    const recorded = count(evs);
    const lost = lostIn(evs);
    expect(recorded + lost).toBeGreaterThanOrEqual(3000);
    if (recorded < 3000) expect(lost).toBeGreaterThan(0);
    // Each loss is in the replay once (not the host's gap and a copy of it at the same instant).
    const gaps = evs.filter((x) => x.kind === 'gap' && x.reason === 'ebpf-lost');
    expect(new Set(gaps.map((g) => g.time)).size).toBe(gaps.length);
    console.log(`3,000-exec loop: ${recorded} execs recorded, ${lost} events reported lost`);
  }, 120_000);

  it('loses no exec of a container while a host process in a fresh mount namespace creates and deletes 200,000 files', async () => {
    // Image extraction, build steps and `unshare` run on the host outside its mount namespace, so
    // the kernel-side host filter passes them: only the file probes' own buffer may overflow.
    const dir = await mkdtemp(join(tmpdir(), 'dashcam-file-storm-'));
    const storm = run('unshare', ['-m', 'python3', '-c', `import os\nfor i in range(200000):\n  p = '${dir}/f%d' % i\n  open(p, 'w').close()\n  os.unlink(p)\n`], { timeout: 120_000 });
    const name = uniqueName('ebpf-storm-files');
    const id = await runDetached(name, [], ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do /bin/true; i=$((i+1)); done']);
    expect(await waitExit(id)).toBe(0);
    await storm;
    await rm(dir, { recursive: true, force: true });
    const count = (e: Ev[]): number => execs(e).filter((x) => x.exe === '/bin/true').length;
    const evs = await settled(name, (e) => count(e) >= 3000 && e.some((x) => x.kind === 'exit' && x.comm === 'sh'), 60_000).catch(async (err: Error) => {
      const e = await replayJson(store, name);
      throw new Error(`${err.message}; ${count(e)} of 3,000 execs, gaps ${JSON.stringify(e.filter((x) => x.kind === 'gap'))}`);
    });
    expect(count(evs)).toBe(3000);
    const lost = evs.filter((x) => x.kind === 'gap' && x.reason === 'ebpf-lost');
    for (const g of lost) expect(Object.keys(g.classes as object), JSON.stringify(g)).toEqual(['file']);
    const files = lost.reduce((n, g) => n + ((g.classes as Record<string, number>).file ?? 0), 0);
    console.log(`3,000 execs during a 200,000-file host storm: ${count(evs)} recorded; file events lost ${files} (${lost.length} gaps)`);
  }, 180_000);

  it('keeps two busy containers apart', async () => {
    const loop = (tag: string): string[] => ['sh', '-c', `i=0; while [ $i -lt 200 ]; do /bin/echo ${tag} > /tmp/${tag}; i=$((i+1)); done`];
    const [a, b] = [uniqueName('ebpf-a'), uniqueName('ebpf-b')];
    const [ida, idb] = await Promise.all([runDetached(a, [], loop('alpha')), runDetached(b, [], loop('bravo'))]);
    await Promise.all([waitExit(ida), waitExit(idb)]);
    for (const [name, id, mineTag, other] of [[a, ida, 'alpha', 'bravo'], [b, idb, 'bravo', 'alpha']] as const) {
      const mineExecs = (e: Ev[]): number => execs(e).filter((x) => (x.argv as string[])[1] === mineTag).length;
      // Done when all 200 are in, or a loss of process events says why not (file losses cannot).
      const processLoss = (x: Ev): boolean => x.kind === 'gap' && !(x.classes && Object.keys(x.classes).every((c) => c === 'file'));
      // Each class of probes has its own bpftrace process: the files may come in after the execs.
      const mineFiles = (e: Ev[]): number => e.filter((x) => x.kind === 'file' && x.path === `/tmp/${mineTag}`).length;
      const evs = await settled(name, (e) => (mineExecs(e) >= 200 && mineFiles(e) >= 200) || e.some(processLoss)).catch(async (err: Error) => {
        const e = await replayJson(store, name);
        throw new Error(`${err.message}; ${mineExecs(e)} of 200 execs, ${mineFiles(e)} of 200 files`);
      });
      // Host-level gaps (a loss of the storm before) are folded into every replay of their time.
      const k = ebpf(evs).filter((e) => e.kind !== 'gap');
      expect(k.every((e) => e.container === id)).toBe(true);
      expect(JSON.stringify(k)).not.toContain(other);
      expect(mineExecs(evs)).toBe(200);
      expect(k.filter((e) => e.kind === 'file' && e.path === `/tmp/${mineTag}`).length).toBe(200);
    }
  });
});
