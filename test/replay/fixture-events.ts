/**
 * Synthetic, seeded event streams that exercise every branch of the state reducer: lifecycle
 * (start, exec sessions, health probes, kill, oom, die, restart), snapshots, processes with pid
 * reuse, connections, files, logs, stats and gaps. Times jitter like real sources (a little out of
 * order), and `veryLate` events arrive seconds after newer ones, which makes the keyframe writer
 * withdraw keyframes.
 */
import type { NewEvent } from '../../formats/schema.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStore, type LevelStore } from '../../formats/level-store.js';
import { Pipeline } from '../../recorder/pipeline.js';
import { createLogger } from '../../recorder/logger.js';
import { KeyframeWriter, type KeyframeOptions } from '../../recorder/keyframes.js';
import { openKeyframeWriter } from '../../recorder/keyframes-store.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CID_A = 'a1'.repeat(32);
export const CID_B = 'b2'.repeat(32);
export const T0 = 1_800_000_000_000_000;

export interface FixtureOptions { count: number; seed?: number; containers?: string[]; jitterMicros?: number; veryLate?: number }

export function* fixtureEvents(o: FixtureOptions): Generator<NewEvent> {
  const r = rng(o.seed ?? 1);
  const cids = o.containers ?? [CID_A];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const live = new Map<string, string[]>(cids.map((c) => [c, []]));
  let now = T0;
  for (const c of cids) {
    yield { kind: 'lifecycle', source: 'docker', container: c, time: now, type: 'container', action: 'create', attributes: { name: `fx-${c.slice(0, 4)}`, image: 'img:1' } };
    yield { kind: 'snapshot', source: 'docker', container: c, time: now + 1, reason: 'create', snapshot: { Name: `/fx-${c.slice(0, 4)}`, Path: 'sh', Args: ['-c', 'run'], Config: { Image: 'img:1', Healthcheck: { Test: ['CMD-SHELL', 'true'] } }, State: { Status: 'created' } } };
    yield { kind: 'lifecycle', source: 'docker', container: c, time: now + 2, type: 'container', action: 'start', attributes: {} };
    yield { kind: 'snapshot', source: 'docker', container: c, time: now + 3, reason: 'start', snapshot: { Name: `/fx-${c.slice(0, 4)}`, Path: 'sh', Args: ['-c', 'run'], Config: { Image: 'img:1', Healthcheck: { Test: ['CMD-SHELL', 'true'] } }, State: { Status: 'running', Running: true, Pid: 4242 } } };
  }
  let late = o.veryLate ?? 0;
  for (let i = 0; i < o.count; i++) {
    now += 1 + Math.floor(r() * 2000);
    const c = pick(cids);
    const procs = live.get(c)!;
    const jitter = Math.floor(r() * (o.jitterMicros ?? 300_000));
    let time = now - jitter;
    if (late > 0 && i > 50 && r() < 0.002) { time = now - 5_000_000; late--; }
    const x = r();
    const pid = 100 + Math.floor(r() * 40); // small pid space: reuse happens
    if (x < 0.15) {
      const key = `${pid}:${i}`;
      procs.push(key);
      yield { kind: 'exec', source: 'ebpf', container: c, time, pid, ppid: 1, uid: 0, exe: '/bin/sh', argv: r() < 0.1 ? ['/bin/sh', '-c', 'true'] : ['/bin/sh', '-c', `job ${i}\x1b[2J`], procKey: key, ...(procs.length > 1 ? { parentKey: pick(procs) } : {}) };
    } else if (x < 0.2 && procs.length) {
      yield { kind: 'fork', source: 'ebpf', container: c, time, pid: pid + 1000, ppid: pid, procKey: `${pid + 1000}:${i}`, parentKey: pick(procs) };
    } else if (x < 0.32 && procs.length) {
      const key = procs.splice(Math.floor(r() * procs.length), 1)[0]!;
      yield { kind: 'exit', source: 'ebpf', container: c, time, pid: Number(key.split(':')[0]), exitCode: r() < 0.1 ? 2 : 0, ...(r() < 0.8 ? { procKey: key } : {}) };
    } else if (x < 0.45) {
      const op = pick(['connect', 'accept', 'listen', 'close', 'close', 'state']);
      yield { kind: 'net', source: 'ebpf', container: c, time, op, proto: pick(['tcp', 'udp']), local: `10.0.0.2:${8000 + Math.floor(r() * 5)}`, remote: `10.0.0.${Math.floor(r() * 4)}:443`, pid, ...(op === 'state' ? { state: pick(['ESTABLISHED', 'CLOSE', 'LISTEN']) } : {}) };
    } else if (x < 0.6) {
      const op = pick(['write', 'create', 'unlink', 'rename', 'chmod', 'read-sensitive']);
      yield { kind: 'file', source: 'ebpf', container: c, time, op, path: `/tmp/f${Math.floor(r() * 300)}`, pid, ...(op === 'rename' ? { newPath: `/tmp/g${Math.floor(r() * 300)}` } : {}) };
    } else if (x < 0.82) {
      yield { kind: 'log', source: 'docker', container: c, time, stream: r() < 0.8 ? 'stdout' : 'stderr', line: Buffer.from(`line ${i} ${'x'.repeat(Math.floor(r() * 40))}`) };
    } else if (x < 0.86) {
      yield { kind: 'stats', source: 'docker', container: c, time, cpuPercent: r() * 100, memUsage: Math.floor(r() * 1e8), memLimit: 2 ** 30, pids: procs.length };
    } else if (x < 0.95) {
      const id = `e${i}`;
      const probe = r() < 0.6;
      const cmd = probe ? '/bin/sh -c true' : `sh -c task ${i}`;
      yield { kind: 'lifecycle', source: 'docker', container: c, time, type: 'container', action: 'exec_start', attributes: { execID: id, actionDetail: cmd } };
      yield { kind: 'lifecycle', source: 'docker', container: c, time: time + 500, type: 'container', action: 'exec_die', attributes: { execID: id, exitCode: probe ? '0' : '1' } };
    } else if (x < 0.96) {
      yield { kind: 'gap', source: 'ebpf', container: c, time, reason: 'ebpf-lost', lost: 3 };
    } else if (x < 0.97) {
      yield { kind: 'lifecycle', source: 'docker', container: c, time, type: 'container', action: pick(['kill', 'oom', 'pause', 'unpause', 'health_status']), attributes: { signal: '15', actionDetail: 'healthy' } };
    } else if (x < 0.975) {
      yield { kind: 'lifecycle', source: 'docker', container: c, time, type: 'container', action: 'die', attributes: { exitCode: String(Math.floor(r() * 3)) } };
      yield { kind: 'lifecycle', source: 'docker', container: c, time: time + 10, type: 'container', action: 'start', attributes: {} };
      procs.length = 0;
    } else {
      yield { kind: 'incident', source: 'dashcam', container: c, time, id: `inc${i}`, trigger: 'exit', severity: 'high', title: 'x' };
    }
  }
}

const quiet = createLogger({ quiet: true, write: () => {} });

/** Writes a fixture through the real pipeline with the keyframe writer; returns the open store. */
export async function fixtureStore(o: FixtureOptions, kf: Partial<KeyframeOptions>, dir?: string, resync = false): Promise<{ kv: LevelStore; writer: KeyframeWriter }> {
  const kv = await openLevelStore(dir ?? (await mkdtemp(join(tmpdir(), 'dashcam-fx-'))), { create: true });
  const p = await Pipeline.open(kv, { flushMs: 5, batchSize: 2048 }, quiet, 0);
  // With `resync`, the writer the recorder runs: a container whose events come too late is read back from the store.
  const writer = resync ? await openKeyframeWriter(kv, [], kf, p) : new KeyframeWriter(kf);
  p.addObserver(writer.observe);
  let i = 0;
  for (const ev of fixtureEvents(o)) {
    p.emit(ev);
    if ((++i & 1023) === 0) await new Promise<void>((res) => setImmediate(res));
  }
  await p.close();
  return { kv, writer };
}
