/**
 * Turns bpftrace's JSON output (one record per line) into raw kernel events. Numeric fields come
 * first at fixed positions; the one free string of a line is everything after them, so a tab or
 * newline inside it cannot shift a field or forge a line. Lines keyed by thread id (argv, cwd,
 * cgroup name, exec file, rename source) are held until the main line of that thread arrives.
 */
export interface Head {
  /** Monotonic (CLOCK_MONOTONIC) nanoseconds. */
  ns: number; pid: number; tid: number;
  /** Process start in clock ticks since boot, as in /proc/<pid>/stat (the ProcKey's second half). */
  ticks: number; cgroup: number; mnt: number;
}
export interface SockTuple { family: number; proto: number; lport: number; rportNet: number; l4: number; r4: number; l6: number[]; r6: number[] }
export type RawEvent =
  | { k: 'exec'; h: Head; oldPid: number; ppid: number; pticks: number; uid: number; gid: number; file: string; argv: string[]; argvTruncated: boolean; cwd?: string; cgroupName?: string }
  | { k: 'fork'; h: Head; ppid: number; pticks: number; uid: number; comm: string }
  | { k: 'exit'; h: Head; status: number; comm: string }
  | { k: 'file'; h: Head; tag: 'open' | 'unlink' | 'rename' | 'chmod' | 'chown' | 'mkdir'; dfd: number; path: string; newDfd?: number; newPath?: string; flags?: number; mode?: number; fd?: number }
  | { k: 'chdir'; h: Head; path?: string }
  | { k: 'sys'; h: Head; op: number; a1: number; a2: number; s: string }
  | { k: 'net'; h: Head; op: 1 | 2 | 3; ret: number; sk: string; t: SockTuple }
  | { k: 'close'; ns: number; sk: string; oldState: number }
  | { k: 'send'; h: Head; fd: number; family: number; portNet: number; a4: number; a6: number[] }
  | { k: 'oom'; h: Head; victim: number; totalVmKb: number; rssKb: number }
  | { k: 'lost'; n: number }
  | { k: 'attached'; probes: number };

/** Longest string bpftrace 0.17 prints (BPFTRACE_STRLEN 200, less its NUL). */
export const MAX_STRING_BYTES = 199;

/** How many numeric fields each tag has before its optional string; -1: no string. */
const LAYOUT: Record<string, [number, boolean]> = {
  a: [2, true], A: [1, false], e: [1, false], c: [2, true], g: [1, true], f: [1, true], r: [1, true],
  E: [12, false], F: [9, true], Q: [7, true], O: [9, true], U: [8, true], R: [9, true],
  M: [8, true], m: [8, false], W: [9, true], w: [9, false], D: [8, true], P: [6, true], p: [7, false],
  S: [9, true], N: [23, false], L: [23, false], Z: [3, false], u: [14, false], K: [11, false],
};

interface Pending {
  argv: string[]; argvMore: boolean; argvDone?: boolean; cwd: string[]; cg?: string; file?: string; renameFrom?: string;
  /** When the task's exit was read: the entry is dropped by expire() (an exec line may still come). */
  exitedAt?: number;
}

/**
 * bpftrace 0.17 writes a byte >= 0x80 in a JSON string as a sign-extended `\uffffffXX`, which
 * JSON.parse reads as U+FFFF followed by the text `ffXX`. U+FFFF cannot come from anything else
 * (a real one would itself be bytes >= 0x80), so this is an exact inverse.
 */
export function decodeBytes(s: string): string {
  if (!s.includes('\uffff')) return s;
  const latin = s.replace(/\uffffff([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(latin, 'latin1').toString('utf8');
}

export class BpftraceParser {
  readonly #pending = new Map<number, Pending>();
  readonly #waiting = new Map<number, { ev: Extract<RawEvent, { k: 'exec' }>; at: number }>();
  /** Lines that did not parse (counted; bpftrace or protocol trouble). */
  bad = 0;

  #p(tid: number): Pending {
    let p = this.#pending.get(tid);
    if (!p) this.#pending.set(tid, (p = { argv: [], argvMore: false, cwd: [] }));
    return p;
  }

  /** One line of bpftrace's stdout; returns an event, or undefined for partial/ignored lines. */
  line(text: string): RawEvent | undefined {
    if (!text) return undefined;
    let rec: { type?: string; data?: unknown };
    try {
      rec = JSON.parse(text) as typeof rec;
    } catch {
      const m = /Lost (\d+) events/.exec(text);
      if (m) return { k: 'lost', n: Number(m[1]) };
      this.bad++;
      return undefined;
    }
    if (rec.type === 'lost_events') return { k: 'lost', n: Number((rec.data as { events?: number })?.events ?? 0) };
    if (rec.type === 'attached_probes') return { k: 'attached', probes: Number((rec.data as { probes?: number })?.probes ?? 0) };
    if (rec.type !== 'printf' || typeof rec.data !== 'string') return undefined;
    return this.data(rec.data.endsWith('\n') ? rec.data.slice(0, -1) : rec.data);
  }

  /** One printf line (without the JSON wrapper). */
  data(line: string): RawEvent | undefined {
    const tag = line.slice(0, line.indexOf('\t') === -1 ? line.length : line.indexOf('\t'));
    const layout = LAYOUT[tag];
    if (!layout) { this.bad++; return undefined; }
    const [count, hasString] = layout;
    const n: string[] = [];
    let at = tag.length + 1;
    for (let i = 0; i < count; i++) {
      const end = line.indexOf('\t', at);
      const last = i === count - 1 && !hasString;
      if (end === -1 && !last) { this.bad++; return undefined; }
      n.push(line.slice(at, end === -1 || last ? line.length : end));
      at = end + 1;
    }
    const s = hasString ? decodeBytes(line.slice(at)) : '';
    const num = n.map(Number);
    if (num.some((x, i) => Number.isNaN(x) && !(tag === 'Z' && i === 1))) { this.bad++; return undefined; }
    const h = (): Head => ({ ns: num[0]!, pid: num[1]!, tid: num[2]!, ticks: num[3]!, cgroup: num[4]!, mnt: num[5]! });
    switch (tag) {
      case 'a': {
        const p = num[1] === 0 ? this.#reset(num[0]!) : this.#p(num[0]!);
        // bpftrace cut it at its string bound: say so rather than pass a prefix off as the whole.
        p.argv[num[1]!] = Buffer.byteLength(s) >= MAX_STRING_BYTES ? `${s}…` : s;
        return undefined;
      }
      case 'A': this.#p(num[0]!).argvMore = true; return undefined;
      case 'e': {
        const p = this.#p(num[0]!);
        p.argvDone = true;
        const waiting = this.#waiting.get(num[0]!);
        if (!waiting) return undefined;
        this.#waiting.delete(num[0]!);
        return this.#exec(waiting.ev, this.#take(num[0]!));
      }
      case 'c': this.#p(num[0]!).cwd[num[1]!] = s; return undefined;
      case 'g': this.#p(num[0]!).cg = s; return undefined;
      case 'f': this.#p(num[0]!).file = s; return undefined;
      case 'r': this.#p(num[0]!).renameFrom = s; return undefined;
      case 'E': {
        const hd = h();
        const p = this.#take(hd.tid);
        const ev: Extract<RawEvent, { k: 'exec' }> = { k: 'exec', h: hd, oldPid: num[6]!, ppid: num[7]!, pticks: num[8]!, uid: num[9]!, gid: num[10]!, file: p.file ?? '', argv: [], argvTruncated: false, cwd: num[11] === 1 ? '/' + p.cwd.slice().reverse().join('/') : undefined, cgroupName: p.cg };
        const args = num[6] === hd.tid ? p : this.#take(num[6]!);
        if (args.argvDone) return this.#exec(ev, args);
        // The argv lines are still in another CPU's buffer: wait for them (see expire()).
        this.#waiting.set(num[6]!, { ev, at: Date.now() });
        if (num[6] === hd.tid) this.#pending.set(hd.tid, { argv: p.argv, argvMore: p.argvMore, cwd: [] });
        return undefined;
      }
      case 'F': return { k: 'fork', h: h(), ppid: num[6]!, pticks: num[7]!, uid: num[8]!, comm: s };
      case 'Q': {
        // Not dropped at once: bpftrace may read a CPU's buffer while the execve probe is still
        // printing there, then the exit from another CPU, and only then the rest of the exec.
        const p = this.#pending.get(num[2]!);
        if (p) p.exitedAt = Date.now();
        return { k: 'exit', h: h(), status: num[6]!, comm: s };
      }
      case 'K': return { k: 'oom', h: h(), victim: num[6]!, totalVmKb: num[7]!, rssKb: num[8]! + num[9]! + num[10]! };
      case 'O': return { k: 'file', h: h(), tag: 'open', dfd: num[6]!, flags: num[7]!, mode: num[8]!, path: s };
      case 'U': return { k: 'file', h: h(), tag: 'unlink', dfd: num[6]!, flags: num[7]!, path: s };
      case 'R': {
        const hd = h();
        const p = this.#pending.get(hd.tid);
        const from = p?.renameFrom ?? '';
        // A parser of file probes alone never sees the task's exit: drop what held only this.
        if (p && !p.argv.length && !p.cwd.length && p.cg === undefined && p.file === undefined) this.#pending.delete(hd.tid);
        else if (p) p.renameFrom = undefined;
        return { k: 'file', h: hd, tag: 'rename', dfd: num[6]!, newDfd: num[7]!, flags: num[8]!, path: from, newPath: s };
      }
      case 'M': return { k: 'file', h: h(), tag: 'chmod', dfd: num[6]!, mode: num[7]!, path: s };
      case 'm': return { k: 'file', h: h(), tag: 'chmod', dfd: -1, fd: num[6]!, mode: num[7]!, path: '' };
      case 'W': return { k: 'file', h: h(), tag: 'chown', dfd: num[6]!, path: s };
      case 'w': return { k: 'file', h: h(), tag: 'chown', dfd: -1, fd: num[6]!, path: '' };
      case 'D': return { k: 'file', h: h(), tag: 'mkdir', dfd: num[6]!, mode: num[7]!, path: s };
      case 'P': return { k: 'chdir', h: h(), path: s };
      case 'p': return { k: 'chdir', h: h() };
      case 'S': return { k: 'sys', h: h(), op: num[6]!, a1: num[7]!, a2: num[8]!, s };
      case 'N': case 'L': return { k: 'net', h: h(), op: num[6] as 1 | 2 | 3, ret: num[7]!, sk: n[8]!, t: tuple(num, 9) };
      case 'Z': return { k: 'close', ns: num[0]!, sk: n[1]!, oldState: num[2]! };
      case 'u': return { k: 'send', h: h(), fd: num[6]!, family: num[7]!, portNet: num[8]!, a4: num[9]!, a6: num.slice(10, 14) };
    }
    return undefined;
  }

  #exec(ev: Extract<RawEvent, { k: 'exec' }>, args: Pending): RawEvent {
    ev.argv = args.argv.map((a) => a ?? '');
    ev.argvTruncated = args.argvMore;
    return ev;
  }

  /**
   * Execs whose argv never came (the exec began before bpftrace attached): out without it. Lines
   * of tasks that exited that long ago and never completed an exec (a failed execve) are dropped.
   */
  expire(olderThanMs: number): RawEvent[] {
    const out: RawEvent[] = [];
    const limit = Date.now() - olderThanMs;
    for (const [tid, w] of this.#waiting) {
      if (w.at > limit) continue;
      this.#waiting.delete(tid);
      out.push(this.#exec(w.ev, this.#take(tid)));
    }
    for (const [tid, p] of this.#pending) if (p.exitedAt !== undefined && p.exitedAt <= limit) this.#pending.delete(tid);
    return out;
  }

  /** Lines held per task (for the leak test). */
  footprint(): Record<string, number> {
    return { ebpfPending: this.#pending.size, ebpfWaiting: this.#waiting.size };
  }

  #reset(tid: number): Pending {
    const p: Pending = { argv: [], argvMore: false, cwd: [] };
    this.#pending.set(tid, p);
    return p;
  }

  #take(tid: number): Pending {
    const p = this.#pending.get(tid) ?? { argv: [], argvMore: false, cwd: [] };
    this.#pending.delete(tid);
    return p;
  }
}

function tuple(num: number[], i: number): SockTuple {
  return { family: num[i]!, proto: num[i + 1]!, lport: num[i + 2]!, rportNet: num[i + 3]!, l4: num[i + 4]!, r4: num[i + 5]!, l6: num.slice(i + 6, i + 10), r6: num.slice(i + 10, i + 14) };
}
