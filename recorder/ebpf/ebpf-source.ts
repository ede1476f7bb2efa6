/**
 * eBPF capture through bpftrace (tracepoints only): process exec/fork/exit, TCP connect/accept/
 * listen/close, UDP sends to new destinations, file writes/renames/unlinks/chmods/mkdirs,
 * sensitive reads and security-relevant syscalls, attributed to containers (attribution.ts).
 * The recorder installs nothing: `available()` says what is missing.
 */
import { access, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaptureSource, ContainerDirectory, ContainerProcessInfo, Sink, SourceHealth } from '../source.js';
import type { NewEvent } from '../../formats/schema.js';
import type { Logger } from '../logger.js';
import { PROBE_CLASSES, buildProgram, type ProbeClass } from './program.js';
import { BpftraceParser, type RawEvent } from './parser.js';
import { Attributor } from './attribution.js';
import { Translator } from './translate.js';
import { DEFAULT_SENSITIVE, SensitiveList } from './sensitive.js';
import { BpftraceRunner } from './bpftrace-runner.js';
import { parseStat } from '../procfs/proc-parse.js';

const run = promisify(execFile);
const TRACEFS = '/sys/kernel/tracing';

export interface EbpfSourceOptions {
  directory: ContainerDirectory;
  log: Logger;
  /** Record host (non-container) processes too. */
  host: boolean;
  /** Globs of sensitive paths whose reads are recorded (default DEFAULT_SENSITIVE). */
  sensitive?: readonly string[];
  /** How long events of a not-yet-known container are held (default 3 s). */
  holdMs?: number;
  /** bpftrace binary (default: `bpftrace` on PATH). */
  bpftrace?: string;
  /** How long to wait for bpftrace to attach its probes (default 120 s). */
  attachTimeoutMs?: number;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

async function findBpftrace(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/usr/sbin:/bin').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    if (dir && await exists(join(dir, 'bpftrace'))) return join(dir, 'bpftrace');
  }
  return undefined;
}

/** Clock ticks (1/100 s) since boot, the unit of a process's start time in /proc and our probes. */
function ticksSinceBoot(): number {
  return Math.round(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
}

/** Mounts tracefs when it is absent and we may (tracepoints need it). */
async function ensureTracefs(): Promise<boolean> {
  if (await exists(`${TRACEFS}/events`)) return true;
  await run('mount', ['-t', 'tracefs', 'nodev', TRACEFS]).catch(() => undefined);
  return exists(`${TRACEFS}/events`);
}

async function nsInode(pid: number | 'self', ns: string): Promise<number | undefined> {
  const link = await readlink(`/proc/${pid}/ns/${ns}`).catch(() => '');
  const m = /\[(\d+)\]/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/** Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup` or, on hybrid hosts, `.../unified`). */
async function cgroup2Mount(): Promise<string | undefined> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  for (const l of info.split('\n')) {
    const [pre, post] = l.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4];
  }
  return undefined;
}

/** cgroup v2 id (the inode of its directory, as the kernel's `cgroup` reports it) of a process. */
async function cgroupId(mount: string | undefined, pid: number): Promise<number | undefined> {
  if (!mount) return undefined;
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  const path = /^0::(\/.*)$/m.exec(text)?.[1];
  if (!path) return undefined;
  const st = await stat(join(mount, path)).catch(() => undefined);
  return st?.isDirectory() ? st.ino : undefined;
}

/** One class of probes: its own bpftrace process (so its own buffers and loss count) and parser. */
interface Lane {
  cls: ProbeClass;
  parser: BpftraceParser;
  runner?: BpftraceRunner;
  attached: boolean;
  lost: number;
  /** Losses reported since the last flush, and when the first of them was. */
  unflushed: number;
  lostSince?: number;
  diedAt?: number;
  diedWhy: string;
}

export class EbpfSource implements CaptureSource {
  readonly name = 'ebpf' as const;
  readonly #o: EbpfSourceOptions;
  readonly #sensitive: SensitiveList;
  readonly #lanes: Lane[] = [];
  #translator: Translator;
  #attr!: Attributor;
  #sink!: Sink;
  #cgroup2: string | undefined;
  /** The v2 hierarchy's root cgroup: a container in it has no cgroup of its own to be known by. */
  #rootCgroup: number | undefined;
  #dir: string | undefined;
  #tick: NodeJS.Timeout | undefined;
  #attached: (() => void) | undefined;
  #startFailed: ((why: string) => void) | undefined;
  #health: SourceHealth = { source: 'ebpf', state: 'starting', events: 0, lost: 0 };

  static async available(): Promise<{ ok: boolean; why: string }> {
    if (process.platform !== 'linux') return { ok: false, why: 'eBPF needs Linux' };
    const bin = await findBpftrace();
    if (!bin) return { ok: false, why: 'bpftrace is not installed (Debian/Ubuntu: apt-get install bpftrace)' };
    if (process.getuid?.() !== 0) return { ok: false, why: 'loading BPF programs needs root (or CAP_BPF + CAP_PERFMON)' };
    if (!(await exists('/sys/kernel/btf/vmlinux'))) return { ok: false, why: 'the kernel has no BTF (/sys/kernel/btf/vmlinux is missing)' };
    if (!(await ensureTracefs())) return { ok: false, why: `tracefs is not mounted at ${TRACEFS} and could not be mounted` };
    if (!(await exists(`${TRACEFS}/events/sched/sched_process_exec`))) return { ok: false, why: 'the kernel has no sched_process_exec tracepoint' };
    return { ok: true, why: `${bin}, tracepoints via ${TRACEFS}` };
  }

  constructor(opts: EbpfSourceOptions) {
    this.#o = opts;
    this.#sensitive = new SensitiveList(opts.sensitive ?? DEFAULT_SENSITIVE);
    this.#translator = new Translator(this.#sensitive);
  }

  health(): SourceHealth {
    const s = this.#attr?.stats;
    const sum = (f: (l: Lane) => number): number => this.#lanes.reduce((n, l) => n + f(l), 0);
    const detail = s ? `held ${this.#attr.heldCount}, resolved late ${s.resolvedLate}, unattributed ${s.unattributed}, restarts ${sum((l) => l.runner?.restarts ?? 0)}, bad lines ${sum((l) => l.parser.bad)}` : undefined;
    const lostByClass = Object.fromEntries(this.#lanes.filter((l) => l.lost).map((l) => [l.cls, l.lost]));
    return { ...this.#health, detail, ...(Object.keys(lostByClass).length ? { lostByClass } : {}) };
  }

  async start(sink: Sink): Promise<void> {
    this.#sink = sink;
    const hostMnt = (await nsInode(1, 'mnt')) ?? (await nsInode('self', 'mnt')) ?? 0;
    this.#cgroup2 = await cgroup2Mount();
    this.#rootCgroup = this.#cgroup2 ? (await stat(this.#cgroup2).catch(() => undefined))?.ino : undefined;
    const dir = this.#o.directory;
    this.#attr = new Attributor({
      host: this.#o.host, hostMnt, holdMs: this.#o.holdMs ?? 3000, emit: (ev) => this.#emit(ev), nowTicks: ticksSinceBoot,
      ...(this.#rootCgroup !== undefined ? { rootCgroup: this.#rootCgroup } : {}),
      ...(dir.knows ? { isContainer: (id: string) => dir.knows!(id) } : {}),
    });
    this.#o.directory.onStart((info) => void this.#learn(info));
    this.#o.directory.onStop((id) => this.#attr.forget(id));
    await Promise.all(this.#o.directory.running().map((i) => this.#learn(i)));

    const tracepoints = new Set<string>();
    for (const cat of ['sched', 'sock', 'syscalls', 'oom']) {
      for (const n of await readdir(`${TRACEFS}/events/${cat}`).catch(() => [] as string[])) tracepoints.add(`${cat}:${n}`);
    }
    this.#dir = await mkdtemp(join(tmpdir(), 'dashcam-ebpf-'));
    const files: [Lane, string][] = [];
    for (const cls of PROBE_CLASSES) {
      const program = buildProgram({
        classes: [cls], tracepoints, sensitivePrefixes: this.#sensitive.prefixes(), maxArgs: 20, maxCwdDepth: 16,
        hostMntNs: this.#o.host ? undefined : hostMnt || undefined,
      });
      if (!program) continue;
      const file = join(this.#dir, `dashcam-${cls}.bt`);
      await writeFile(file, program, { mode: 0o600 });
      const lane: Lane = { cls, parser: new BpftraceParser(), attached: false, lost: 0, unflushed: 0, diedWhy: '' };
      this.#lanes.push(lane);
      files.push([lane, file]);
    }

    this.#syncClock();
    this.#tick = setInterval(() => {
      this.#syncClock();
      for (const l of this.#lanes) for (const r of l.parser.expire(1000)) this.#raw(r);
      this.#attr.expire();
      this.#flushLost();
    }, 500);
    const bin = this.#o.bpftrace ?? (await findBpftrace()) ?? 'bpftrace';
    let failed!: (why: string) => void;
    const attached = new Promise<void>((resolve) => (this.#attached = resolve));
    const died = new Promise<string>((r) => (failed = r));
    this.#startFailed = failed;
    for (const [lane, file] of files) {
      lane.runner = new BpftraceRunner(bin, file, this.#o.log, { line: (l) => this.#line(lane, l), died: (why) => this.#died(lane, why) });
      lane.runner.start();
    }
    const timeout = this.#o.attachTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([attached.then(() => ''), died, new Promise<string>((r) => (timer = setTimeout(() => r(`did not attach its probes within ${timeout} ms`), timeout)))]);
    clearTimeout(timer);
    this.#startFailed = undefined;
    if (ok) {
      await this.stop();
      throw Object.assign(new Error(`eBPF capture cannot start: bpftrace ${ok}`), { code: 'SOURCE_UNAVAILABLE' });
    }
    this.#health.state = 'running';
  }

  footprint(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.#lanes) for (const [k, v] of Object.entries(l.parser.footprint())) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#lanes.map((l) => l.runner?.stop()));
    if (this.#tick) clearInterval(this.#tick);
    if (this.#attr) for (const l of this.#lanes) for (const r of l.parser.expire(0)) this.#raw(r);
    this.#attr?.expire(true);
    if (this.#attr) this.#flushLost();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
    this.#health.state = 'stopped';
  }

  /** Monotonic-to-wall offset, refreshed so a clock step shows up within half a second. */
  #syncClock(): void {
    this.#translator.offsetMicros = Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);
  }

  async #learn(info: ContainerProcessInfo): Promise<void> {
    if (!info.pid) return;
    const [cgroup, mnt, stat] = await Promise.all([cgroupId(this.#cgroup2, info.pid), nsInode(info.pid, 'mnt'), readFile(`/proc/${info.pid}/stat`, 'utf8').catch(() => '')]);
    const ticks = parseStat(stat)?.startTicks;
    this.#attr.learn(info.id, { cgroup, mnt, ...(ticks !== undefined ? { ticks } : {}) });
  }

  #emit(ev: NewEvent): void {
    this.#health.events++;
    this.#sink.emit(ev);
  }

  #line(lane: Lane, text: string): void {
    const r = lane.parser.line(text);
    if (!r) return;
    if (r.k === 'attached') {
      lane.runner?.attached();
      lane.attached = true;
      if (lane.diedAt !== undefined) {
        this.#gap({ reason: 'ebpf-restart', from: lane.diedAt, to: Date.now() * 1000, detail: `${lane.diedWhy}; ${lane.cls} events in between were not seen` });
        lane.diedAt = undefined;
        if (this.#lanes.every((l) => l.diedAt === undefined)) this.#health.state = 'running';
      }
      if (this.#lanes.every((l) => l.attached)) this.#attached?.();
      return;
    }
    if (r.k === 'lost') {
      this.#health.lost += r.n;
      lane.lost += r.n;
      lane.unflushed += r.n;
      lane.lostSince ??= Date.now() * 1000;
      return;
    }
    this.#raw(r);
  }

  #raw(r: RawEvent): void {
    if (r.k === 'exec') this.#attr.learnCgroupName({ cgroup: r.h.cgroup, mnt: r.h.mnt }, r.cgroupName);
    const t = this.#translator.translate(r);
    if (t) this.#attr.submit(t.ev, t.keys);
  }

  /**
   * Losses as one gap per class and half second: bpftrace reports them per poll of its buffers,
   * dozens a second in a storm, each of which would be a row in every replay of that time.
   */
  #flushLost(): void {
    for (const l of this.#lanes) {
      if (!l.unflushed) continue;
      this.#gap({
        reason: 'ebpf-lost', lost: l.unflushed, classes: { [l.cls]: l.unflushed }, from: l.lostSince, to: Date.now() * 1000,
        detail: `bpftrace's ${l.cls} probes could not keep up: their ring buffer overflowed (counted across every container active then; other classes are unaffected)`,
      });
      l.unflushed = 0;
      l.lostSince = undefined;
    }
  }

  #died(lane: Lane, why: string): void {
    if (this.#startFailed) { this.#startFailed(why.replace(/^bpftrace /, '')); return; }
    lane.diedAt ??= Date.now() * 1000;
    lane.diedWhy = why;
    this.#health.state = 'degraded';
  }

  /**
   * A gap goes to the host timeline only: lost kernel events could have been any container's, so
   * every container alive then has it in its replay once, folded in by time (a copy per active
   * container as well counted each loss twice there and said nothing to the quiet ones).
   */
  #gap(g: { reason: string; lost?: number; classes?: Record<string, number>; from?: number; to?: number; detail: string }): void {
    this.#emit({ kind: 'gap', source: 'ebpf', container: '', ...g });
  }
}
