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

interface Proc { pid: number; procKey: string }
interface Conn { local: string; remote: string; pid: number; procKey: string }

/**
 * What each container has started and not yet ended, so that, as in a recording, an exit ends a
 * process that was forked or exec'd before it, an exec runs in a process forked before it and a
 * close ends a connection opened before it (FIFO). Ends are a little more likely than starts, so a
 * container holds a handful of live processes and connections, not an ever-growing set.
 */
export class Activity {
  readonly #forked = new Map<string, Proc[]>();
  readonly #live = new Map<string, Proc[]>();
  readonly #conns = new Map<string, Conn[]>();

  static #list<T>(m: Map<string, T[]>, container: string): T[] {
    let l = m.get(container);
    if (!l) m.set(container, (l = []));
    return l;
  }

  /** A kernel-activity event (exec, exit, fork, file, net) for `container` at `time`. */
  event(r: () => number, container: string, time: number, i: number): NewEvent {
    const forked = Activity.#list(this.#forked, container);
    const live = Activity.#list(this.#live, container);
    const x = r();
    if (x < 0.06) {
      const parent = live[live.length - 1] ?? { pid: 999 + (i % 30000), procKey: `${999 + (i % 30000)}:${99999 + i}` };
      const child = { pid: 1000 + (i % 30000), procKey: `${1000 + (i % 30000)}:${100000 + i}` };
      forked.push(child);
      return { kind: 'fork', source: 'ebpf', container, time, pid: child.pid, ppid: parent.pid, procKey: child.procKey, parentKey: parent.procKey };
    }
    if (x < 0.26) {
      // An exec runs in a forked child when there is one (fork, exec, exit: one command).
      const p = forked.shift() ?? { pid: 1000 + (i % 30000), procKey: `${1000 + (i % 30000)}:${100000 + i}` };
      live.push(p);
      const exe = EXES[i % EXES.length]!;
      return { kind: 'exec', source: 'ebpf', container, time, pid: p.pid, ppid: p.pid - 1, uid: 0, gid: 0, exe, argv: [exe, '-c', `task-${i % 97}`], procKey: p.procKey, parentKey: `${p.pid - 1}:${99999 + i}`, comm: exe.slice(exe.lastIndexOf('/') + 1, exe.lastIndexOf('/') + 16) };
    }
    const self = live[0] ?? { pid: 1000 + (i % 30000), procKey: `${1000 + (i % 30000)}:${100000 + i}` };
    if (x < 0.5) {
      // A process that ended without our seeing its start (it predates the recording) when none is live.
      const p = live.shift() ?? forked.shift() ?? self;
      return { kind: 'exit', source: 'ebpf', container, time, pid: p.pid, exitCode: i % 13 === 0 ? 1 : 0, procKey: p.procKey };
    }
    const { pid, procKey } = self;
    if (x < 0.78) return { kind: 'file', source: 'ebpf', container, time, op: x < 0.7 ? 'write' : 'unlink', path: `${PATHS[i % PATHS.length]}${i % 501}`, pid, procKey };
    const conns = Activity.#list(this.#conns, container);
    if (x < 0.885) {
      const c = { local: `172.17.0.${2 + (i % 20)}:${32768 + (i % 20000)}`, remote: `10.0.${i % 4}.${i % 250}:443`, pid, procKey };
      conns.push(c);
      return { kind: 'net', source: 'ebpf', container, time, op: 'connect', proto: 'tcp', local: c.local, remote: c.remote, pid, procKey, family: 4 };
    }
    const c = conns.shift() ?? { local: `172.17.0.${2 + (i % 20)}:${32768 + (i % 20000)}`, remote: `10.0.${i % 4}.${i % 250}:443`, pid, procKey };
    return { kind: 'net', source: 'ebpf', container, time, op: 'close', proto: 'tcp', local: c.local, remote: c.remote, pid: c.pid, procKey: c.procKey, family: 4 };
  }
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
  const activity = new Activity();
  for (let i = 0; i < count; i++) {
    const container = BENCH_CONTAINERS[i % BENCH_CONTAINERS.length]!;
    const time = startMicros + i * stepMicros;
    const x = r();
    if (x < 0.15) yield { kind: 'log', source: 'docker', container, time, stream: x < 0.12 ? 'stdout' : 'stderr', line: Buffer.from(logLine(r, i)), engineTime: time };
    else if (x < 0.151) yield { kind: 'stats', source: 'docker', container, time, cpuPercent: r() * 100, memUsage: Math.floor(r() * 1e9), memLimit: 2 ** 31, pids: 12 };
    else yield activity.event(r, container, time, i);
  }
}
