/**
 * Synthetic events with the mix of kinds and sizes seen in real recordings (kernel activity
 * dominates: exec/exit/fork pairs, file writes, connections; a log line every few events; stats
 * rarely). Deterministic (seeded), so runs compare.
 */
import type { NewEvent } from '../formats/schema.js';

export function rng(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BENCH_CONTAINERS = Array.from({ length: 8 }, (_, i) => (i + 1).toString(16).repeat(64).slice(0, 64));

const EXES = ['/bin/sh', '/usr/bin/curl', '/usr/local/bin/python3', '/bin/busybox', '/usr/sbin/nginx', '/app/server'];
const PATHS = ['/tmp/cache/session-', '/var/log/app/access.log', '/app/data/db-', '/etc/app/conf.d/', '/run/app.pid'];
const LOG_WORDS = ['GET', '/api/v1/items', '200', 'ms', 'user=', 'request_id=', 'INFO', 'WARN', 'handler', 'done'];

/** A realistic kernel-activity event (exec, exit, fork, file, net) for `container` at `time`. */
export function activityEvent(r: () => number, container: string, time: number, i: number): NewEvent {
  const pid = 1000 + (i % 30000);
  const procKey = `${pid}:${100000 + i}`;
  const x = r();
  if (x < 0.22) {
    const exe = EXES[i % EXES.length]!;
    return { kind: 'exec', source: 'ebpf', container, time, pid, ppid: pid - 1, uid: 0, gid: 0, exe, argv: [exe, '-c', `task-${i % 97}`], procKey, parentKey: `${pid - 1}:${99999 + i}`, comm: exe.slice(exe.lastIndexOf('/') + 1, exe.lastIndexOf('/') + 16) };
  }
  if (x < 0.44) return { kind: 'exit', source: 'ebpf', container, time, pid, exitCode: i % 13 === 0 ? 1 : 0, procKey };
  if (x < 0.5) return { kind: 'fork', source: 'ebpf', container, time, pid: pid + 1, ppid: pid, procKey: `${pid + 1}:${100001 + i}`, parentKey: procKey };
  if (x < 0.78) return { kind: 'file', source: 'ebpf', container, time, op: x < 0.7 ? 'write' : 'unlink', path: `${PATHS[i % PATHS.length]}${i % 501}`, pid, procKey };
  return { kind: 'net', source: 'ebpf', container, time, op: x < 0.9 ? 'connect' : 'close', proto: 'tcp', local: `172.17.0.${2 + (i % 20)}:${32768 + (i % 20000)}`, remote: `10.0.${i % 4}.${i % 250}:443`, pid, procKey, family: 4 };
}

/** A realistic log line (~90 bytes). */
export function logLine(r: () => number, i: number): string {
  const words: string[] = [new Date(1_700_000_000_000 + i * 7).toISOString()];
  const n = 6 + Math.floor(r() * 8);
  for (let k = 0; k < n; k++) words.push(LOG_WORDS[Math.floor(r() * LOG_WORDS.length)]! + (k % 3 === 0 ? String(Math.floor(r() * 100000)) : ''));
  return words.join(' ');
}

/** The whole mix: mostly activity, some logs, a stats sample now and then. */
export function* mixedEvents(count: number, startMicros: number, stepMicros = 50, seed = 42): Generator<NewEvent> {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    const container = BENCH_CONTAINERS[i % BENCH_CONTAINERS.length]!;
    const time = startMicros + i * stepMicros;
    const x = r();
    if (x < 0.15) yield { kind: 'log', source: 'docker', container, time, stream: x < 0.12 ? 'stdout' : 'stderr', line: Buffer.from(logLine(r, i)), engineTime: time };
    else if (x < 0.151) yield { kind: 'stats', source: 'docker', container, time, cpuPercent: r() * 100, memUsage: Math.floor(r() * 1e9), memLimit: 2 ** 31, pids: 12 };
    else yield activityEvent(r, container, time, i);
  }
}
