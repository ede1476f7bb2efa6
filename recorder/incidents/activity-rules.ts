/**
 * The built-in behaviour rules over kernel activity (exec, file, net, syscall events) and the
 * engine's exec_start: interactive shell, write below system directories, package manager run,
 * drift (an executable written then run), sensitive file read, privilege change to root, ptrace,
 * and a first connection to a new outbound destination (off by default).
 * Each rule is on/off and tunable in IncidentConfig.rules.
 */
import type { DashEvent, EventOf } from '../../formats/schema.js';
import type { IncidentConfig, RuleName } from './incident-config.js';
import type { IncidentCandidate } from './incident-types.js';
import { BoundedMap, BoundedSet } from './bounded-set.js';

const WRITE_OPS = new Set(['write', 'create', 'truncate', 'unlink', 'rename', 'chmod', 'chown', 'mkdir']);
/** Ops after which a path holds content (or mode) someone in the container chose. */
const PRODUCE_OPS = new Set(['write', 'create', 'truncate', 'chmod']);
const SETID = /^set(?:res|re|fs)?[ug]id$/;
const PTRACE_TRACEME = 0;

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
/** What most events raise: shared, so the per-event path allocates no result. */
const NONE: readonly IncidentCandidate[] = Object.freeze([]);

interface PerContainer { written: BoundedSet<string>; dests: BoundedSet<string> }

export class ActivityRules {
  readonly #cfg: IncidentConfig['rules'];
  readonly #memory: number;
  readonly #state = new Map<string, PerContainer>();
  /** Last uid seen at exec, per process (procKey, else pid), for the privilege rule. */
  readonly #uids: BoundedMap<string, number>;
  readonly #shells: Set<string>;
  readonly #pkg: Set<string>;

  constructor(cfg: IncidentConfig['rules'], memory = 4096) {
    this.#cfg = cfg;
    this.#memory = memory;
    this.#uids = new BoundedMap(memory * 4);
    this.#shells = new Set(cfg['interactive-shell'].shells);
    this.#pkg = new Set(cfg['package-manager'].programs);
  }

  #st(id: string): PerContainer {
    let s = this.#state.get(id);
    if (!s) this.#state.set(id, (s = { written: new BoundedSet(this.#memory), dests: new BoundedSet(this.#memory) }));
    return s;
  }

  #fire(rule: RuleName, ev: DashEvent, title: string, note?: string): readonly IncidentCandidate[] {
    const r = this.#cfg[rule];
    if (!r.enabled) return NONE;
    const source = ev.source === 'ebpf' || ev.source === 'procfs' || ev.source === 'docker' ? ev.source : 'dashcam';
    return [{ time: ev.time, container: ev.container, trigger: rule, rule, severity: r.severity, title, before: r.before, after: r.after, note, source }];
  }

  footprint(): Record<string, number> {
    return { ruleState: this.#state.size, ruleUids: this.#uids.size };
  }

  onEvent(ev: DashEvent): readonly IncidentCandidate[] {
    if (ev.container === '') return NONE;
    switch (ev.kind) {
      case 'exec': return this.#exec(ev);
      case 'file': return this.#file(ev);
      case 'syscall': return this.#syscall(ev);
      case 'net': return this.#net(ev);
      case 'lifecycle':
        if (ev.type !== 'container') return NONE;
        if (ev.action === 'destroy') this.#state.delete(ev.container);
        if (ev.action === 'exec_start') return this.#engineExec(ev);
        return NONE;
      default: return NONE;
    }
  }

  /** A shell with no -c and no script argument reads its commands from a person (or a pipe). */
  #isInteractiveShell(exe: string, argv: string[]): boolean {
    let name = base(exe);
    if (name === 'busybox' || name === '') name = base(argv[0] ?? '');
    if (!this.#shells.has(name) || name === 'busybox') return false;
    return argv.slice(1).every((a) => a.startsWith('-') && a !== '-c' && !/^-[a-z]*c/.test(a));
  }

  #exec(ev: EventOf<'exec'>): readonly IncidentCandidate[] {
    const argv = ev.argv ?? [];
    this.#uids.set(ev.procKey ?? `${ev.container}:${ev.pid}`, ev.uid);
    const shell = this.#isInteractiveShell(ev.exe, argv);
    const prog = base(ev.exe) === 'busybox' ? base(argv[0] ?? '') : base(ev.exe);
    const pkg = this.#pkg.has(prog);
    const drift = this.#state.get(ev.container)?.written.has(ev.exe) === true;
    if (!shell && !pkg && !drift) return NONE;
    const out: IncidentCandidate[] = [];
    const cmd = argv.join(' ').slice(0, 200);
    if (shell) out.push(...this.#fire('interactive-shell', ev, `interactive shell ${ev.exe} started in the container`, cmd));
    if (pkg) out.push(...this.#fire('package-manager', ev, `package manager ${prog} run in the container`, cmd));
    if (drift) out.push(...this.#fire('drift', ev, `${ev.exe} was written in the container, then run`, cmd));
    return out;
  }

  /** `docker exec -it c sh`: the engine tells us even without a kernel source. */
  #engineExec(ev: EventOf<'lifecycle'>): readonly IncidentCandidate[] {
    const argv = (ev.attributes.actionDetail ?? '').split(/\s+/).filter(Boolean);
    if (argv.length === 0 || !this.#isInteractiveShell(argv[0]!, argv)) return NONE;
    return this.#fire('interactive-shell', ev, `interactive shell ${argv[0]} started with docker exec`, argv.join(' ').slice(0, 200));
  }

  #file(ev: EventOf<'file'>): readonly IncidentCandidate[] {
    if (ev.op === 'read-sensitive') return this.#fire('sensitive-read', ev, `sensitive file ${ev.path} read`, ev.comm);
    if (!WRITE_OPS.has(ev.op)) return NONE;
    const st = this.#st(ev.container);
    if (PRODUCE_OPS.has(ev.op)) st.written.add(ev.path);
    if (ev.op === 'rename' && ev.newPath) st.written.add(ev.newPath);
    let hit = ev.path;
    let below = this.#systemDir(hit);
    if (below === undefined && ev.newPath !== undefined) below = this.#systemDir((hit = ev.newPath));
    return below === undefined ? NONE : this.#fire('write-below-system', ev, `${ev.op} below ${below}: ${hit}`, ev.comm);
  }

  /** The configured system directory `path` is in (or is), if any. */
  #systemDir(path: string): string | undefined {
    for (const pre of this.#cfg['write-below-system'].prefixes) if (path.startsWith(pre) || `${path}/` === pre) return pre;
    return undefined;
  }

  #syscall(ev: EventOf<'syscall'>): readonly IncidentCandidate[] {
    const args = ev.args ?? {};
    if (SETID.test(ev.op)) {
      const toRoot = Object.entries(args).some(([k, v]) => /id$/.test(k) && Number(v) === 0);
      const was = this.#uids.get(ev.procKey ?? `${ev.container}:${ev.pid}`);
      if (toRoot && was !== 0) return this.#fire('privilege-root', ev, `${ev.comm ?? `pid ${ev.pid}`} changed to root with ${ev.op}${was === undefined ? '' : ` (was uid ${was})`}`);
      return NONE;
    }
    if (ev.op === 'ptrace') {
      if (Number(args.request) === PTRACE_TRACEME) return NONE;
      return this.#fire('ptrace', ev, `${ev.comm ?? `pid ${ev.pid}`} used ptrace${args.target !== undefined ? ` on pid ${args.target}` : ''}`);
    }
    return NONE;
  }

  #net(ev: EventOf<'net'>): readonly IncidentCandidate[] {
    const r = this.#cfg['new-outbound'];
    if (!r.enabled || ev.op !== 'connect' || !ev.remote) return NONE;
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(ev.remote);
    if (!m) return NONE;
    const [, host, port] = m;
    if (/^127\.|^::1$|^0\.0\.0\.0$|^::$/.test(host!) || r.ignorePorts.includes(Number(port))) return NONE;
    const st = this.#st(ev.container);
    if (st.dests.has(ev.remote)) return NONE;
    st.dests.add(ev.remote);
    return this.#fire('new-outbound', ev, `first connection from the container to ${ev.remote}`, ev.comm);
  }
}
