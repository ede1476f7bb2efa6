/**
 * The reconstructed state as a JSON document (`replay --at T --format json`). Times are RFC 3339
 * like the JSON Lines contract; absent values are null so the shape is stable. Fields are only
 * ever added.
 */
import type { ContainerRecord } from '../formats/records.js';
import type { ContainerState, ProcEntry } from '../formats/state.js';
import { toRfc3339 } from '../formats/time.js';

export const STATE_JSON_VERSION = 1;

const t = (v: number | undefined): string | null => (v === undefined ? null : toRfc3339(v));
const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

export function procJson(p: ProcEntry): Record<string, unknown> {
  return {
    procKey: p.key, pid: p.pid, ppid: p.ppid, parentKey: n(p.parentKey), exe: p.exe, argv: p.argv, uid: n(p.uid), cwd: n(p.cwd),
    comm: n(p.comm), source: p.source, start: t(p.start), exit: t(p.exit), exitCode: n(p.exitCode), signal: n(p.signal),
    alive: p.exit === undefined, probe: p.probe === true,
  };
}

export function stateJson(s: ContainerState, rec?: ContainerRecord): Record<string, unknown> {
  const latest = s.stats[s.stats.length - 1];
  return {
    container: s.container,
    name: s.name || rec?.name || '',
    image: s.image || rec?.image || '',
    command: s.command || rec?.command || '',
    status: s.status,
    exitCode: n(s.exitCode),
    oomKilled: s.oomKilled,
    lastSignal: n(s.lastSignal),
    health: n(s.health),
    startedAt: t(s.startedAt),
    finishedAt: t(s.finishedAt),
    lastEvent: s.events ? { time: toRfc3339(s.time), seq: s.seq } : null,
    events: s.events,
    processes: [...s.procs.values()].map(procJson),
    connections: [...s.conns.values()].map((c) => ({ proto: c.proto, local: c.local, remote: c.remote, op: c.op, pid: n(c.pid), procKey: n(c.procKey), since: t(c.since), source: c.source })),
    listening: [...s.listening.values()].map((l) => ({ proto: l.proto, local: l.local, pid: n(l.pid), procKey: n(l.procKey), since: t(l.since), source: l.source })),
    files: [...s.files.values()].reverse().map((f) => ({ path: f.path, ops: f.ops, count: f.count, first: t(f.first), last: t(f.last), pid: n(f.pid), newPath: n(f.newPath) })),
    logs: s.logs.map((l) => ({ time: toRfc3339(l.time), stream: l.stream, line: l.text, truncated: n(l.truncated) })),
    stats: latest ? { ...latest, time: toRfc3339(latest.time) } : null,
    gaps: s.gaps,
    lastGap: s.lastGap ? { ...s.lastGap, time: toRfc3339(s.lastGap.time) } : null,
  };
}
