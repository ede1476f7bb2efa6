/**
 * The reducer: `applyEvent(state, ev)` folds one event into a container's state. Deterministic:
 * it reads nothing but the state and the event (no clock, no randomness, no iteration over
 * unordered collections), which is what lets a keyframe stand in for every event before it.
 * Events must arrive in store order (time, then seq).
 */
import type { DashEvent, EventOf } from './schema.js';
import { STATE_LIMITS, STATS_SAMPLE_FIELDS, type ContainerState, type ProcEntry, type StatsSample } from './state.js';

const STATUS_BY_ACTION: Record<string, string> = {
  create: 'created', start: 'running', restart: 'running', unpause: 'running', pause: 'paused', die: 'exited', destroy: 'removed',
};
const CLOSED_TCP = new Set(['CLOSE', 'CLOSED', 'TIME_WAIT', 'CLOSE_WAIT', 'FIN_WAIT1', 'FIN_WAIT2', 'LAST_ACK', 'CLOSING']);

export function applyEvent(s: ContainerState, ev: DashEvent): void {
  applyPosition(s, ev.time, ev.seq);
  switch (ev.kind) {
    case 'lifecycle': if (ev.type === 'container') lifecycle(s, ev); break;
    case 'snapshot': snapshot(s, ev); break;
    case 'exec': exec(s, ev); break;
    case 'fork': fork(s, ev); break;
    case 'exit': exit(s, ev); break;
    case 'net': net(s, ev); break;
    case 'file': file(s, ev); break;
    case 'log': log(s, ev); break;
    case 'stats': stats(s, ev); break;
    case 'gap':
      s.gaps++;
      s.lastGap = { time: ev.time, reason: ev.reason, ...(ev.lost !== undefined ? { lost: ev.lost } : {}) };
      break;
    default: break; // incident, syscall: shown in the event list, no state
  }
}

/**
 * What every event does to the state. It is all a log line does when at least STATE_LIMITS.logs
 * later log lines follow in the same fold, since those push it out of the state's recent lines:
 * a fold may apply just this to such a line, without decoding it (recorder/keyframes.ts).
 */
export function applyPosition(s: ContainerState, time: number, seq: number): void {
  s.time = time;
  s.seq = seq;
  s.events++;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function lifecycle(s: ContainerState, ev: EventOf<'lifecycle'>): void {
  const a = ev.attributes ?? {};
  if (a.name) s.name = a.name.replace(/^\//, '');
  if (a.image && !s.image) s.image = a.image;
  const status = STATUS_BY_ACTION[ev.action];
  if (status) s.status = status;
  switch (ev.action) {
    case 'start':
      s.startedAt = ev.time;
      delete s.exitCode;
      delete s.finishedAt;
      s.oomKilled = false;
      break;
    case 'die': {
      s.finishedAt = ev.time;
      const code = num(a.exitCode);
      if (code !== undefined) s.exitCode = code;
      // Nothing survives its container: every process still listed exits with it.
      for (const p of s.procs.values()) if (p.exit === undefined) endProc(s, p, ev.time, p.key === mainKey(s) ? code : undefined, undefined);
      s.conns.clear();
      s.listening.clear();
      break;
    }
    case 'oom': s.oomKilled = true; break;
    case 'kill': { const sig = num(a.signal); if (sig !== undefined) s.lastSignal = sig; break; }
    case 'health_status': if (a.actionDetail) s.health = a.actionDetail; break;
    case 'exec_start': {
      const id = a.execID;
      if (!id || s.procs.has(`exec:${id}`)) break;
      const cmd = a.actionDetail ?? '';
      // The kernel saw this `docker exec` first: that process is it, with its real pid and argv.
      if (cmd && kernelTwin(s, cmd, ev.time)) break;
      const argv = cmd === '' ? [] : cmd.split(' ');
      addProc(s, {
        key: `exec:${id}`, pid: 0, ppid: 0, exe: argv[0] ?? '', argv, source: ev.source, start: ev.time,
        ...(s.probeCmd !== undefined && cmd === s.probeCmd ? { probe: true } : {}),
      });
      execRecords(s).add(`exec:${id}`);
      break;
    }
    case 'exec_die': {
      const p = a.execID ? s.procs.get(`exec:${a.execID}`) : undefined;
      if (p && p.exit === undefined) endProc(s, p, ev.time, num(a.exitCode), undefined);
      break;
    }
    default: break;
  }
}

/** The main process as a snapshot showed it (kernel sources may replace it with a real key). */
function mainKey(s: ContainerState): string | undefined {
  for (const p of s.procs.values()) if (p.key.startsWith('pid:') && p.exit === undefined) return p.key;
  return undefined;
}

interface SnapDoc {
  Name?: string; Path?: string; Args?: string[];
  Config?: { Image?: string; Cmd?: string[] | null; Entrypoint?: string[] | null; Healthcheck?: { Test?: string[] | null } };
  State?: { Status?: string; Running?: boolean; Pid?: number; ExitCode?: number; OOMKilled?: boolean };
}

/** The command line the engine prints for a health-check exec (`exec_start: /bin/sh -c true`). */
export function probeCommand(test: readonly string[] | null | undefined): string | undefined {
  if (!test || test.length < 2) return undefined;
  if (test[0] === 'CMD-SHELL') return `/bin/sh -c ${test.slice(1).join(' ')}`;
  if (test[0] === 'CMD') return test.slice(1).join(' ');
  return undefined;
}

function snapshot(s: ContainerState, ev: EventOf<'snapshot'>): void {
  const d = (ev.snapshot ?? {}) as SnapDoc;
  if (d.Name) s.name = d.Name.replace(/^\//, '');
  if (d.Config?.Image) s.image = d.Config.Image;
  const cmd = d.Path ? [d.Path, ...(d.Args ?? [])] : [...(d.Config?.Entrypoint ?? []), ...(d.Config?.Cmd ?? [])];
  if (cmd.length) s.command = cmd.join(' ');
  const probe = probeCommand(d.Config?.Healthcheck?.Test);
  if (probe !== undefined) s.probeCmd = probe;
  if (d.State?.OOMKilled) s.oomKilled = true;
  if (d.State?.Status === 'exited' && typeof d.State.ExitCode === 'number' && s.exitCode === undefined) s.exitCode = d.State.ExitCode;
  const pid = d.State?.Pid;
  if (d.State?.Running && typeof pid === 'number' && pid > 0 && !liveByPid(s, pid)) {
    addProc(s, { key: `pid:${pid}`, pid, ppid: 0, exe: cmd[0] ?? '', argv: cmd, source: ev.source, start: ev.time });
  }
}

function liveByPid(s: ContainerState, pid: number): ProcEntry | undefined {
  const key = s.livePid.get(pid);
  return key === undefined ? undefined : s.procs.get(key);
}

function addProc(s: ContainerState, p: ProcEntry): void {
  if (p.pid > 0) {
    const old = liveByPid(s, p.pid);
    if (old && old.key !== p.key) endProc(s, old, p.start, undefined, undefined); // its exit was not seen
    s.livePid.set(p.pid, p.key);
  }
  s.procs.set(p.key, p);
  if (s.procs.size - s.exitedCount <= STATE_LIMITS.liveProcs) return;
  for (const q of s.procs.values()) {
    if (q.exit === undefined) {
      s.procs.delete(q.key);
      if (s.livePid.get(q.pid) === q.key) s.livePid.delete(q.pid);
      return;
    }
  }
}

function endProc(s: ContainerState, p: ProcEntry, time: number, code: number | undefined, signal: number | undefined): void {
  p.exit = time;
  if (s.livePid.get(p.pid) === p.key) s.livePid.delete(p.pid);
  if (code !== undefined) p.exitCode = code;
  if (signal !== undefined) p.signal = signal;
  s.exitedCount++;
  if (s.exitedCount <= STATE_LIMITS.exitedProcs) return;
  for (const q of s.procs.values()) {
    if (q.exit !== undefined) {
      s.procs.delete(q.key);
      s.exitedCount--;
      return;
    }
  }
}

/** A kernel source saw the real process behind a snapshot's `pid:N` placeholder: drop the placeholder. */
function replacePlaceholder(s: ContainerState, pid: number, key: string): void {
  const ph = `pid:${pid}`;
  if (ph !== key && s.procs.get(ph)?.exit === undefined) s.procs.delete(ph);
}

/** How far apart the engine's `exec_start` and the kernel's exec of one `docker exec` may be. */
const EXEC_TWIN_US = 2_000_000;
const cmdline = (p: ProcEntry): string => p.argv.join(' ');

/** A live kernel-seen process with this command line that started about then (a `docker exec`). */
function kernelTwin(s: ContainerState, cmd: string, time: number): ProcEntry | undefined {
  for (const key of s.livePid.values()) {
    const p = s.procs.get(key);
    if (p && !p.key.startsWith('pid:') && Math.abs(p.start - time) <= EXEC_TWIN_US && cmdline(p) === cmd) return p;
  }
  return undefined;
}

/**
 * The engine's record of a `docker exec` whose process the kernel has just shown: the same one.
 * Runs on every kernel exec, so it looks only at the open records (almost always none).
 */
function dropExecRecord(s: ContainerState, argv: readonly string[], time: number): void {
  const open = execRecords(s);
  if (open.size === 0) return;
  const cmd = argv.join(' ');
  for (const key of open) {
    const p = s.procs.get(key);
    if (!p || p.exit !== undefined || time - p.start > EXEC_TWIN_US) { open.delete(key); continue; }
    if (Math.abs(p.start - time) <= EXEC_TWIN_US && cmdline(p) === cmd) {
      s.procs.delete(key);
      open.delete(key);
      return;
    }
  }
}

/**
 * Per state, the keys of `docker exec` records that may still wait for their kernel process: a
 * cache beside the state (not part of it, so keyframes and state equality never see it), built
 * from `procs` when a state has none yet (a decoded keyframe); stale keys go when next looked at.
 */
const openExecs = new WeakMap<ContainerState, Set<string>>();
function execRecords(s: ContainerState): Set<string> {
  let set = openExecs.get(s);
  if (!set) {
    set = new Set();
    for (const p of s.procs.values()) if (p.exit === undefined && p.pid === 0 && p.key.startsWith('exec:')) set.add(p.key);
    openExecs.set(s, set);
  }
  return set;
}

function exec(s: ContainerState, ev: EventOf<'exec'>): void {
  const key = ev.procKey ?? `pid:${ev.pid}`;
  replacePlaceholder(s, ev.pid, key);
  if (ev.argv?.length) dropExecRecord(s, ev.argv, ev.time);
  const p = s.procs.get(key);
  if (p && p.exit === undefined) {
    // execve() in a known process: same identity, new image.
    p.exe = ev.exe;
    p.argv = ev.argv ?? [];
    if (ev.cwd !== undefined) p.cwd = ev.cwd;
    if (ev.comm !== undefined) p.comm = ev.comm;
    p.uid = ev.uid;
    return;
  }
  if (p) { s.procs.delete(key); s.exitedCount--; }
  const argv = ev.argv ?? [];
  addProc(s, {
    key, pid: ev.pid, ppid: ev.ppid, exe: ev.exe, argv, uid: ev.uid, source: ev.source, start: ev.time,
    ...(ev.parentKey !== undefined ? { parentKey: ev.parentKey } : {}),
    ...(ev.cwd !== undefined ? { cwd: ev.cwd } : {}),
    ...(ev.comm !== undefined ? { comm: ev.comm } : {}),
    ...(s.probeCmd !== undefined && argv.join(' ') === s.probeCmd ? { probe: true } : {}),
  });
}

function fork(s: ContainerState, ev: EventOf<'fork'>): void {
  const key = ev.procKey ?? `pid:${ev.pid}`;
  replacePlaceholder(s, ev.pid, key);
  const old = s.procs.get(key);
  if (old && old.exit === undefined) return;
  if (old) { s.procs.delete(key); s.exitedCount--; }
  const parent = ev.parentKey !== undefined ? s.procs.get(ev.parentKey) : liveByPid(s, ev.ppid);
  // A fork runs its parent's image until it execs.
  addProc(s, {
    key, pid: ev.pid, ppid: ev.ppid, exe: parent?.exe ?? ev.comm ?? '', argv: parent ? [...parent.argv] : [], source: ev.source, start: ev.time,
    ...(ev.parentKey !== undefined || parent ? { parentKey: ev.parentKey ?? parent!.key } : {}),
    ...(ev.comm !== undefined ? { comm: ev.comm } : {}),
    ...(parent?.probe ? { probe: true } : {}),
  });
}

function exit(s: ContainerState, ev: EventOf<'exit'>): void {
  const p = ev.procKey !== undefined ? s.procs.get(ev.procKey) ?? liveByPid(s, ev.pid) : liveByPid(s, ev.pid);
  if (!p || p.exit !== undefined) return;
  endProc(s, p, ev.time, ev.exitCode, ev.signal);
}

function net(s: ContainerState, ev: EventOf<'net'>): void {
  const lkey = `${ev.proto} ${ev.local}`;
  const ckey = `${ev.proto} ${ev.local} ${ev.remote}`;
  const closing = ev.op === 'close' || (ev.op === 'state' && ev.state !== undefined && CLOSED_TCP.has(ev.state.toUpperCase()));
  if (closing) {
    if (!s.conns.delete(ckey)) s.listening.delete(lkey);
    return;
  }
  if (ev.op === 'listen' || (ev.op === 'state' && ev.state?.toUpperCase() === 'LISTEN')) {
    if (!s.listening.has(lkey)) {
      s.listening.set(lkey, { key: lkey, proto: ev.proto, local: ev.local, since: ev.time, source: ev.source, ...owner(ev) });
      if (s.listening.size > STATE_LIMITS.listening) s.listening.delete(s.listening.keys().next().value!);
    }
    return;
  }
  const c = s.conns.get(ckey);
  if (c) {
    if (ev.op !== 'state') c.op = ev.op;
    return;
  }
  s.conns.set(ckey, { key: ckey, proto: ev.proto, local: ev.local, remote: ev.remote, op: ev.op === 'state' ? 'established' : ev.op, since: ev.time, source: ev.source, ...owner(ev) });
  if (s.conns.size > STATE_LIMITS.conns) s.conns.delete(s.conns.keys().next().value!);
}

function owner(ev: { pid?: number; procKey?: string }): { pid?: number; procKey?: string } {
  return { ...(ev.pid !== undefined ? { pid: ev.pid } : {}), ...(ev.procKey !== undefined ? { procKey: ev.procKey } : {}) };
}

function touch(s: ContainerState, path: string, op: string, time: number, pid: number | undefined, newPath?: string): void {
  let f = s.files.get(path);
  if (f) {
    s.files.delete(path); // re-insert: the map stays least-recently-touched first
  } else {
    f = { path, ops: [], count: 0, first: time, last: time };
  }
  if (!f.ops.includes(op) && f.ops.length < STATE_LIMITS.fileOps) f.ops.push(op);
  f.count++;
  f.last = time;
  if (pid !== undefined) f.pid = pid;
  if (newPath !== undefined) f.newPath = newPath;
  s.files.set(path, f);
  if (s.files.size > STATE_LIMITS.files) s.files.delete(s.files.keys().next().value!);
}

function file(s: ContainerState, ev: EventOf<'file'>): void {
  touch(s, ev.path, ev.op, ev.time, ev.pid, ev.newPath);
  if (ev.newPath !== undefined) touch(s, ev.newPath, 'rename-to', ev.time, ev.pid);
}

function log(s: ContainerState, ev: EventOf<'log'>): void {
  const b = ev.line;
  let text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  if (text.length > STATE_LIMITS.logChars) text = text.slice(0, STATE_LIMITS.logChars);
  s.logs.push({ time: ev.time, seq: ev.seq, stream: ev.stream, text, ...(ev.truncated !== undefined ? { truncated: ev.truncated } : {}) });
  if (s.logs.length > STATE_LIMITS.logs) s.logs.shift();
}

function stats(s: ContainerState, ev: EventOf<'stats'>): void {
  // Exactly the sample's fields (the keyframe stores the same list), nothing else.
  const src = ev as unknown as Record<string, unknown>;
  const sample: Record<string, unknown> = { time: ev.time };
  for (const f of STATS_SAMPLE_FIELDS) if (src[f] !== undefined) sample[f] = src[f];
  s.stats.push(sample as unknown as StatsSample);
  if (s.stats.length > STATE_LIMITS.stats) s.stats.shift();
}
