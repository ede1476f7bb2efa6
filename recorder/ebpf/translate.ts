/**
 * Raw kernel events to dashcam events: process keys, exit status, paths resolved against the
 * process's working directory (tracked from exec, fork and chdir), socket tuples, and the
 * owner of each socket so a close seen in softirq context goes to the right process.
 */
import { posix } from 'node:path';
import type { NewEvent } from '../../formats/schema.js';
import type { AttributionKeys } from './attribution.js';
import type { Head, RawEvent, SockTuple } from './parser.js';
import { SYSCALL_OPS } from './program.js';
import type { SensitiveList } from './sensitive.js';

export interface Translated { ev: NewEvent; keys: AttributionKeys }
interface Proc { cwd?: string; comm: string; sent?: Set<string> }
interface Owner { keys: AttributionKeys; pid: number; procKey: string; local: string; remote: string; family: 4 | 6; comm?: string }

const AT_FDCWD = -100;
const O_CREAT = 0x40;
const O_TRUNC = 0x200;
const MAX_PROCS = 200_000;
const MAX_SOCKETS = 100_000;

export class Translator {
  readonly #procs = new Map<string, Proc>();
  readonly #owners = new Map<string, Owner>();
  readonly #sensitive: SensitiveList;
  /** Wall-clock µs minus monotonic µs. */
  offsetMicros = 0;

  constructor(sensitive: SensitiveList) {
    this.#sensitive = sensitive;
  }

  #time(ns: number): number {
    return Math.round(ns / 1000 + this.offsetMicros);
  }

  #base(h: Head): { source: 'ebpf'; container: string; time: number; pid: number; procKey: string; comm?: string } {
    const procKey = `${h.pid}:${h.ticks}`;
    return { source: 'ebpf', container: '', time: this.#time(h.ns), pid: h.pid, procKey, comm: this.#procs.get(procKey)?.comm };
  }

  #keys(h: Head): AttributionKeys {
    return { cgroup: h.cgroup, mnt: h.mnt, ticks: h.ticks };
  }

  #remember(key: string, p: Proc): void {
    if (this.#procs.size >= MAX_PROCS) this.#procs.delete(this.#procs.keys().next().value!);
    this.#procs.set(key, p);
  }

  /** A path as the process saw it: relative ones resolved against its cwd when known. */
  #path(procKey: string, dfd: number, path: string): string {
    if (path.startsWith('/') || path === '') return path;
    const cwd = dfd === AT_FDCWD ? this.#procs.get(procKey)?.cwd : undefined;
    return cwd ? posix.join(cwd, path) : path;
  }

  translate(r: RawEvent): Translated | undefined {
    switch (r.k) {
      case 'exec': {
        const b = this.#base(r.h);
        const comm = (r.file.slice(r.file.lastIndexOf('/') + 1) || r.file).slice(0, 15);
        this.#remember(b.procKey, { cwd: r.cwd, comm });
        const argv = r.argvTruncated ? [...r.argv, '…'] : r.argv;
        return { keys: this.#keys(r.h), ev: { ...b, kind: 'exec', comm, ppid: r.ppid, uid: r.uid, gid: r.gid, exe: r.file, argv, cwd: r.cwd, parentKey: `${r.ppid}:${r.pticks}` } };
      }
      case 'fork': {
        const b = this.#base(r.h);
        const parentKey = `${r.ppid}:${r.pticks}`;
        this.#remember(b.procKey, { cwd: this.#procs.get(parentKey)?.cwd, comm: r.comm });
        return { keys: this.#keys(r.h), ev: { ...b, kind: 'fork', comm: r.comm, ppid: r.ppid, parentKey } };
      }
      case 'exit': {
        const b = this.#base(r.h);
        this.#procs.delete(b.procKey);
        const sig = r.status & 0x7f;
        const code = sig === 0 ? { exitCode: (r.status >> 8) & 0xff } : { signal: sig };
        return { keys: this.#keys(r.h), ev: { ...b, kind: 'exit', comm: r.comm, ...code } };
      }
      case 'oom':
        return { keys: this.#keys(r.h), ev: { source: 'ebpf', container: '', time: this.#time(r.h.ns), kind: 'stats', memUsage: r.rssKb * 1024, sample: 'oom-victim', pid: r.victim } };
      case 'chdir': {
        const b = this.#base(r.h);
        const p = this.#procs.get(b.procKey) ?? { comm: '' };
        p.cwd = r.path === undefined || (!r.path.startsWith('/') && !p.cwd) ? undefined : this.#path(b.procKey, AT_FDCWD, r.path);
        this.#remember(b.procKey, p);
        return undefined;
      }
      case 'file': return this.#file(r);
      case 'sys': {
        const b = this.#base(r.h);
        const op = SYSCALL_OPS[r.op] || `syscall-${r.op}`;
        return { keys: this.#keys(r.h), ev: { ...b, kind: 'syscall', op, args: sysArgs(op, r.a1, r.a2, r.s) } };
      }
      case 'net': return this.#net(r);
      case 'close': {
        const o = this.#owners.get(r.sk);
        if (!o) return undefined;
        this.#owners.delete(r.sk);
        return { keys: o.keys, ev: { source: 'ebpf', container: '', time: this.#time(r.ns), kind: 'net', op: 'close', proto: 'tcp', local: o.local, remote: o.remote, pid: o.pid, procKey: o.procKey, family: o.family, comm: o.comm } };
      }
      case 'send': {
        const remote = r.family === 2 ? `${ip4(r.a4)}:${ntohs(r.portNet)}` : r.family === 10 ? addr6(r.a6, ntohs(r.portNet)).text : undefined;
        if (!remote) return undefined;
        const b = this.#base(r.h);
        // Only new destinations per process: a resolver's retries are not news.
        const p = this.#procs.get(b.procKey) ?? { comm: '' };
        p.sent ??= new Set();
        if (p.sent.has(remote)) return undefined;
        p.sent.add(remote);
        this.#remember(b.procKey, p);
        return { keys: this.#keys(r.h), ev: { ...b, kind: 'net', op: 'send', proto: 'udp', local: '', remote, family: r.family === 2 ? 4 : 6 } };
      }
      default: return undefined;
    }
  }

  #file(r: Extract<RawEvent, { k: 'file' }>): Translated | undefined {
    const b = this.#base(r.h);
    const path = r.fd !== undefined ? `fd:${r.fd}` : this.#path(b.procKey, r.dfd, r.path);
    let op: string = r.tag;
    if (r.tag === 'open') {
      const f = r.flags ?? 0;
      if (f & O_CREAT) op = 'create';
      else if (f & O_TRUNC) op = 'truncate';
      else if (f & 3) op = 'write';
      else if (this.#sensitive.matches(path)) op = 'read-sensitive';
      else return undefined;
    }
    const newPath = r.newPath === undefined ? undefined : this.#path(b.procKey, r.newDfd ?? AT_FDCWD, r.newPath);
    return { keys: this.#keys(r.h), ev: { ...b, kind: 'file', op, path, newPath, flags: r.flags, mode: r.mode } };
  }

  #net(r: Extract<RawEvent, { k: 'net' }>): Translated | undefined {
    const b = this.#base(r.h);
    const t = tupleText(r.t);
    if (!t) return undefined;
    const op = r.op === 1 ? 'connect' : r.op === 2 ? 'accept' : 'listen';
    const proto = r.t.proto === 6 ? 'tcp' : r.t.proto === 17 ? 'udp' : `ip-${r.t.proto}`;
    // 0 or EINPROGRESS: under way; any other error: the attempt failed (still worth recording).
    const state = r.op === 1 && r.ret < 0 && r.ret !== -115 ? `error ${-r.ret}` : undefined;
    const keys = this.#keys(r.h);
    if (proto === 'tcp' && !state) {
      if (this.#owners.size >= MAX_SOCKETS) this.#owners.delete(this.#owners.keys().next().value!);
      this.#owners.set(r.sk, { keys, pid: b.pid, procKey: b.procKey, local: t.local, remote: t.remote, family: t.family, comm: b.comm });
    }
    return { keys, ev: { ...b, kind: 'net', op, proto, local: t.local, remote: op === 'listen' ? '' : t.remote, family: t.family, state } };
  }
}

function sysArgs(op: string, a1: number, a2: number, s: string): Record<string, string | number> {
  switch (op) {
    case 'setuid': return { uid: a1 };
    case 'setgid': return { gid: a1 };
    case 'setreuid': case 'setresuid': return { ruid: a1, euid: a2 };
    case 'setregid': case 'setresgid': return { rgid: a1, egid: a2 };
    case 'ptrace': return { request: a1, target: a2 };
    case 'mount': return { flags: a1, target: s };
    case 'unshare': return { flags: a1 };
    case 'setns': return { fd: a1, nstype: a2 };
    case 'memfd_create': return { flags: a1, name: s };
    default: return {};
  }
}

const ntohs = (n: number): number => ((n & 0xff) << 8) | ((n >> 8) & 0xff);
/** A u32 read from memory on a little-endian machine, bytes in network order. */
const ip4 = (n: number): string => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');

function addr6(w: number[], port: number): { text: string; mapped: boolean } {
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff0000) return { text: `${ip4(w[3]!)}:${port}`, mapped: true };
  const bytes = Buffer.alloc(16);
  w.forEach((x, i) => bytes.writeUInt32LE(x >>> 0, i * 4));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, len = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > len && j - i > 1) { best = i; len = j - i; }
  }
  const text = best < 0 ? groups.join(':') : `${groups.slice(0, best).join(':')}::${groups.slice(best + len).join(':')}`;
  return { text: `[${text}]:${port}`, mapped: false };
}

/** Local and remote `ip:port`; IPv4-mapped IPv6 addresses are shown as IPv4. */
export function tupleText(t: SockTuple): { local: string; remote: string; family: 4 | 6 } | undefined {
  const rport = ntohs(t.rportNet);
  if (t.family === 2) return { local: `${ip4(t.l4)}:${t.lport}`, remote: `${ip4(t.r4)}:${rport}`, family: 4 };
  if (t.family !== 10) return undefined;
  const l = addr6(t.l6, t.lport);
  const r = addr6(t.r6, rport);
  return { local: l.text, remote: r.text, family: l.mapped && (r.mapped || t.r6.every((x) => x === 0)) ? 4 : 6 };
}
