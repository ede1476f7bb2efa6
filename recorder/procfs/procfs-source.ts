/**
 * The /proc polling source: the fallback where eBPF is not available or not allowed. Every
 * `pollMs` it lists each running container's processes (through its cgroup), their TCP sockets
 * (the container's /proc/<pid>/net/tcp{,6}, matched to processes by socket inode) and records what
 * appeared and vanished. Everything it emits says source 'procfs': it sees long-lived processes
 * and connections only; anything that starts and ends between two polls is invisible to it.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';
import type { CaptureSource, ContainerDirectory, ContainerProcessInfo, Sink, SourceHealth } from '../source.js';
import type { Logger } from '../logger.js';
import { cgroupProcsCandidates, parseNetTcp, parseStat, procKey, statusId, type SocketRow } from './proc-parse.js';

interface Proc { key: string; pid: number; ppid: number; comm: string }
interface Conn { id: string; row: SocketRow; pid?: number; key?: string }
interface Watched { info: ContainerProcessInfo; procsFile?: string; procs: Map<string, Proc>; conns: Map<string, Conn> }

const read = (p: string): Promise<string | undefined> => readFile(p, 'utf8').catch(() => undefined);

export class ProcfsSource implements CaptureSource {
  readonly name = 'procfs' as const;
  readonly #dir: ContainerDirectory;
  readonly #pollMs: number;
  readonly #log: Logger;
  readonly #watched = new Map<string, Watched>();
  #sink!: Sink;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | undefined;
  #health: SourceHealth = { source: 'procfs', state: 'starting', events: 0, lost: 0 };

  constructor(dir: ContainerDirectory, opts: { pollMs: number; log: Logger }) {
    this.#dir = dir;
    this.#pollMs = opts.pollMs;
    this.#log = opts.log;
  }

  health(): SourceHealth {
    return { ...this.#health, detail: `polling every ${this.#pollMs} ms; short-lived processes are not seen` };
  }

  async start(sink: Sink): Promise<void> {
    this.#sink = sink;
    this.#dir.onStart((info) => this.#watch(info));
    this.#dir.onStop((id) => void this.#unwatch(id));
    for (const info of this.#dir.running()) this.#watch(info);
    this.#timer = setInterval(() => void this.poll(), this.#pollMs);
    this.#health.state = 'running';
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#busy;
    this.#health.state = 'stopped';
  }

  #watch(info: ContainerProcessInfo): void {
    if (!this.#watched.has(info.id)) this.#watched.set(info.id, { info, procs: new Map(), conns: new Map() });
    else this.#watched.get(info.id)!.info = info;
    void this.poll();
  }

  /** The container stopped: whatever we still listed as alive is gone. */
  async #unwatch(id: string): Promise<void> {
    const w = this.#watched.get(id);
    this.#watched.delete(id);
    if (!w) return;
    for (const c of w.conns.values()) this.#emitConn(id, 'close', c);
    for (const p of w.procs.values()) this.#emit({ kind: 'exit', source: 'procfs', container: id, pid: p.pid, procKey: p.key, comm: p.comm });
  }

  #emit(ev: Parameters<Sink['emit']>[0]): void {
    this.#health.events++;
    this.#sink.emit(ev);
  }

  /** One sweep over every watched container; sweeps never overlap. */
  poll(): Promise<void> {
    // `.finally` runs after the assignment even when a sweep has nothing to await (no containers):
    // clearing #busy inside the sweep itself could run first and leave polling stuck forever.
    this.#busy ??= this.#sweep().finally(() => {
      this.#busy = undefined;
    });
    return this.#busy;
  }

  async #sweep(): Promise<void> {
    try {
      for (const w of [...this.#watched.values()]) await this.#pollContainer(w);
    } catch (err) {
      this.#log.warn(`procfs poll: ${(err as Error).message}`);
    }
  }

  async #pids(w: Watched): Promise<number[]> {
    if (!w.procsFile) {
      const cg = await read(`/proc/${w.info.pid}/cgroup`);
      for (const f of cg ? cgroupProcsCandidates(cg) : []) if ((await read(f)) !== undefined) { w.procsFile = f; break; }
    }
    const text = w.procsFile ? await read(w.procsFile) : undefined;
    return text === undefined ? [w.info.pid] : text.split('\n').filter(Boolean).map(Number);
  }

  async #pollContainer(w: Watched): Promise<void> {
    const id = w.info.id;
    const seen = new Map<string, Proc>();
    const inodes = new Map<number, Proc>();
    for (const pid of await this.#pids(w)) {
      const st = parseStat((await read(`/proc/${pid}/stat`)) ?? '');
      if (!st) continue;
      const p: Proc = { key: procKey(pid, st.startTicks), pid, ppid: st.ppid, comm: st.comm };
      seen.set(p.key, p);
      if (!w.procs.has(p.key)) await this.#newProc(id, p, w, seen);
      for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
        const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m) inodes.set(Number(m[1]), p);
      }
    }
    for (const [key, p] of w.procs) {
      if (!seen.has(key)) this.#emit({ kind: 'exit', source: 'procfs', container: id, pid: p.pid, procKey: key, comm: p.comm });
    }
    w.procs = seen;
    await this.#pollSockets(w, inodes);
  }

  async #newProc(id: string, p: Proc, w: Watched, seen: Map<string, Proc>): Promise<void> {
    const [cmdline, status, exe, cwd] = await Promise.all([
      read(`/proc/${p.pid}/cmdline`), read(`/proc/${p.pid}/status`),
      readlink(`/proc/${p.pid}/exe`).catch(() => ''), readlink(`/proc/${p.pid}/cwd`).catch(() => undefined),
    ]);
    const argv = (cmdline ?? '').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    const parent = [...seen.values(), ...w.procs.values()].find((q) => q.pid === p.ppid);
    this.#emit({
      kind: 'exec', source: 'procfs', container: id, pid: p.pid, ppid: p.ppid,
      uid: status ? (statusId(status, 'Uid') ?? -1) : -1, gid: status ? statusId(status, 'Gid') : undefined,
      exe: exe || argv[0] || p.comm, argv, cwd, procKey: p.key, parentKey: parent?.key, comm: p.comm,
    });
  }

  async #pollSockets(w: Watched, inodes: Map<number, Proc>): Promise<void> {
    const rows = [
      ...parseNetTcp((await read(`/proc/${w.info.pid}/net/tcp`)) ?? '', 4),
      ...parseNetTcp((await read(`/proc/${w.info.pid}/net/tcp6`)) ?? '', 6),
    ].filter((r) => r.state === 'LISTEN' || r.state === 'ESTABLISHED');
    const listening = new Set(rows.filter((r) => r.state === 'LISTEN').map((r) => r.local.slice(r.local.lastIndexOf(':'))));
    const now = new Map<string, Conn>();
    for (const row of rows) {
      const p = inodes.get(row.inode);
      const c: Conn = { id: `${row.state} ${row.local} ${row.remote} ${row.inode}`, row, pid: p?.pid, key: p?.key };
      now.set(c.id, c);
      if (w.conns.has(c.id)) continue;
      // A poll cannot see the syscall: an established socket on a listening port was accepted.
      const op = row.state === 'LISTEN' ? 'listen' : listening.has(row.local.slice(row.local.lastIndexOf(':'))) ? 'accept' : 'connect';
      this.#emitConn(w.info.id, op, c);
    }
    for (const [cid, c] of w.conns) if (!now.has(cid)) this.#emitConn(w.info.id, 'close', c);
    w.conns = now;
  }

  #emitConn(id: string, op: string, c: Conn): void {
    this.#emit({
      kind: 'net', source: 'procfs', container: id, op, proto: 'tcp', local: c.row.local, remote: c.row.remote,
      pid: c.pid, procKey: c.key, family: c.row.family, state: c.row.state,
    });
  }
}
