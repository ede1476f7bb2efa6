/**
 * CPU time and resident memory of other processes, read from /proc, for benchmarks that compare
 * the recorder with the engine or with a baseline tool in the same run. Also the shared bits those
 * benchmarks need: the machine's load (it is shared, so every figure carries it) and the engine's
 * environment.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';

let tck: number | undefined;
/** Clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat times. */
function clockTicks(): number {
  if (tck === undefined) {
    try {
      tck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      tck = 100;
    }
  }
  return tck;
}

/** The fields after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

export interface CpuTimes {
  /** utime + stime of the process (all its threads), seconds. */
  self: number;
  /** cutime + cstime: children that exited and were waited for, seconds. */
  children: number;
}

/** CPU used so far by `pid`, or undefined when it is gone. */
export function cpuTimes(pid: number): CpuTimes | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  // Fields after the name start at stat's third field: utime is the 14th, so index 11 here.
  const hz = clockTicks();
  return { self: (Number(f[11]) + Number(f[12])) / hz, children: (Number(f[13]) + Number(f[14])) / hz };
}

/** Pids whose parent is `pid`, and theirs, recursively. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (!f) continue;
    const pp = Number(f[1]);
    const list = parent.get(pp) ?? [];
    list.push(Number(d));
    parent.set(pp, list);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of parent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * A snapshot of several processes' CPU, so a later one can be subtracted. Live descendants are
 * included by pid (their time reaches the parent's cutime only once they exit and are reaped).
 */
export class CpuSnapshot {
  readonly #at = new Map<number, number>();

  static take(pids: number[], withDescendants = false): CpuSnapshot {
    const s = new CpuSnapshot();
    const all = withDescendants ? [...pids, ...pids.flatMap(descendants)] : pids;
    for (const p of all) {
      const t = cpuTimes(p);
      if (t) s.#at.set(p, t.self + t.children);
    }
    return s;
  }

  get pids(): number[] {
    return [...this.#at.keys()];
  }

  /** CPU seconds used between `before` and this snapshot (a process new since then counts whole). */
  since(before: CpuSnapshot): number {
    let n = 0;
    for (const [p, t] of this.#at) n += t - (before.#at.get(p) ?? 0);
    return n;
  }
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined when it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a container's containerd shim (its command line names the full container id). */
export function shimPid(containerId: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.startsWith('/') || cmd.startsWith('containerd-shim')) {
      const argv = cmd.split('\0');
      if (argv[0]!.includes('containerd-shim') && argv[argv.indexOf('-id') + 1] === containerId) return Number(d);
    }
  }
  return undefined;
}

/** dockerd's pid: from the private engine's pid file when there is one, else by name. */
export function dockerdPid(): number | undefined {
  for (const f of [process.env.DASHCAM_DOCKERD_PIDFILE, '/run/dashcam-test/dockerd.pid', '/var/run/docker.pid']) {
    if (f && existsSync(f)) {
      const pid = Number(readFileSync(f, 'utf8').trim());
      if (cpuTimes(pid)) return pid;
    }
  }
  try {
    return Number(execFileSync('pgrep', ['-o', '-x', 'dockerd'], { encoding: 'utf8' }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** "load 1.23 / 2.34 / 3.45 (1, 5, 15 min)", for the notes of every result. */
export function loadNote(): string {
  const [a, b, c] = loadavg();
  return `load ${a!.toFixed(2)} / ${b!.toFixed(2)} / ${c!.toFixed(2)} (1, 5, 15 min)`;
}
