/**
 * Shape checks of decoded values. Everything read back from a store or a bundle may be damaged
 * or hostile (a flipped bit, a crafted bundle): msgpack decodes it into *some* value, and without
 * these checks a wrong type surfaces far away as a TypeError (`argv.join is not a function`) or a
 * string template that throws. Checked once here, at decode, the rest of dashcam can trust the
 * types it declares. Cheap: a typeof per present field.
 */
import { FormatError } from './errors.js';
import type { ContainerRecord, IncidentRecord } from './records.js';
import type { Kind } from './schema.js';

export type FieldType = 'string' | 'number' | 'boolean' | 'time' | 'bytes' | 'strings' | 'scalars' | 'object' | 'timeOrTrue';

/** Types of event fields by name (a name means the same thing in every kind that has it). */
export const FIELD_TYPES: Readonly<Record<string, FieldType>> = {
  type: 'string', action: 'string', attributes: 'scalars', reason: 'string', snapshot: 'object',
  pid: 'number', ppid: 'number', uid: 'number', gid: 'number', exe: 'string', argv: 'strings', cwd: 'string',
  procKey: 'string', parentKey: 'string', vpid: 'number', comm: 'string', exitCode: 'number', signal: 'number',
  op: 'string', proto: 'string', local: 'string', remote: 'string', family: 'number', state: 'string',
  path: 'string', newPath: 'string', flags: 'number', mode: 'number',
  stream: 'string', line: 'bytes', engineTime: 'timeOrTrue', truncated: 'number',
  cpuPercent: 'number', cpuTotalNs: 'number', memUsage: 'number', memLimit: 'number', netRx: 'number', netTx: 'number',
  blkRead: 'number', blkWrite: 'number', pids: 'number', sample: 'string',
  id: 'string', trigger: 'string', severity: 'string', title: 'string', windowStart: 'number', windowEnd: 'number',
  note: 'string', rule: 'string', lost: 'number', from: 'time', to: 'time', detail: 'string', args: 'scalars', perContainer: 'boolean',
  classes: 'scalars',
};

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

function fits(t: FieldType, v: unknown): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    case 'time': return time(v);
    case 'timeOrTrue': return v === true || time(v);
    case 'bytes': return v instanceof Uint8Array;
    case 'strings': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'object': return isPlain(v);
    case 'scalars': return isPlain(v) && Object.values(v).every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean');
  }
}

/**
 * Fields every event of a kind has (the non-optional ones of its type in schema.ts). Fields are
 * only appended, as optional, so even the oldest record of a kind has these.
 */
export const REQUIRED: Readonly<Record<Kind, readonly string[]>> = {
  lifecycle: ['type', 'action', 'attributes'], snapshot: ['reason', 'snapshot'], exec: ['pid', 'ppid', 'uid', 'exe', 'argv'],
  exit: ['pid'], net: ['op', 'proto', 'local', 'remote'], file: ['op', 'path'], log: ['stream', 'line'], stats: [],
  incident: ['id', 'trigger', 'severity', 'title'], gap: ['reason'], fork: ['pid', 'ppid'], syscall: ['op', 'pid'],
};

/** The name of the first field that is missing or has the wrong type, or undefined. */
export function badEventField(ev: Record<string, unknown>, kind: Kind, fields: readonly string[]): string | undefined {
  for (const f of REQUIRED[kind]) if (ev[f] === undefined) return f;
  for (const f of fields) {
    const v = ev[f];
    if (v === undefined) continue;
    const t = FIELD_TYPES[f];
    if (t !== undefined && !fits(t, v)) return f;
  }
  return undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;
const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
/** Latest time a Date (and so RFC 3339 output) can hold, in microseconds. */
export const MAX_TIME = 8.64e18;
const time = (v: unknown): boolean => typeof v === 'number' && v >= 0 && v <= MAX_TIME;
const optTime = (v: unknown): boolean => v === undefined || time(v);
const optStr = (v: unknown): boolean => v === undefined || typeof v === 'string';
const optNum = (v: unknown): boolean => v === undefined || num(v);
const optBool = (v: unknown): boolean => v === undefined || typeof v === 'boolean';
const optStrs = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));

function fail(what: string, field: string): never {
  throw new FormatError('STORE_CORRUPT', `${what} is damaged: field ${field} has the wrong type`);
}

/** A container record as the queries need it; `what` names it in the error (key, part). */
export function checkContainerRecord(v: unknown, what: string): ContainerRecord {
  if (!isPlain(v)) fail(what, '(record)');
  if (typeof v.id !== 'string' || !HEX64.test(v.id)) fail(what, 'id');
  if (typeof v.name !== 'string') fail(what, 'name');
  if (!optStrs(v.names)) fail(what, 'names');
  if (typeof v.image !== 'string') fail(what, 'image');
  if (typeof v.state !== 'string') fail(what, 'state');
  for (const f of ['firstSeen', 'lastSeen'] as const) if (!time(v[f])) fail(what, f);
  for (const f of ['events', 'bytes'] as const) if (!num(v[f])) fail(what, f);
  for (const f of ['startedAt', 'finishedAt'] as const) if (!optTime(v[f])) fail(what, f);
  if (!optNum(v.exitCode)) fail(what, 'exitCode');
  for (const f of ['imageId', 'command', 'importedFrom'] as const) if (!optStr(v[f])) fail(what, f);
  for (const f of ['oomKilled', 'removed', 'tty'] as const) if (!optBool(v[f])) fail(what, f);
  if (v.labels !== undefined && !(isPlain(v.labels) && Object.values(v.labels).every((x) => typeof x === 'string'))) fail(what, 'labels');
  if (v.snapshot !== undefined && !isPlain(v.snapshot)) fail(what, 'snapshot');
  return v as unknown as ContainerRecord;
}

export function checkIncidentRecord(v: unknown, what: string): IncidentRecord {
  if (!isPlain(v)) fail(what, '(record)');
  for (const f of ['id', 'container', 'trigger', 'severity', 'title'] as const) if (typeof v[f] !== 'string') fail(what, f);
  for (const f of ['time', 'windowStart', 'windowEnd', 'pinUntil'] as const) if (!time(v[f])) fail(what, f);
  for (const f of ['note', 'rule'] as const) if (!optStr(v[f])) fail(what, f);
  if (!optTime(v.unpinned)) fail(what, 'unpinned');
  for (const f of ['merged', 'triggers'] as const) if (!optStrs(v[f])) fail(what, f);
  return v as unknown as IncidentRecord;
}

/**
 * Keyframe state, checked field by field: 's' string, 'n' number, 't' time, 'b' boolean, 'S' list
 * of strings; a trailing '?' marks an optional field. A keyframe is derived data, so a reader that
 * finds one damaged skips it and rebuilds the state from events (state-load.ts). A spec's fields
 * are listed once: Object.entries() per check made a pair per field of every entry checked, half
 * of what decoding a keyframe allocated (the recorder decodes one per keyframe it writes).
 */
type Spec = readonly (readonly [field: string, type: string])[];
const spec = (fields: Record<string, string>): Spec => Object.entries(fields);
const STATE_SPEC = spec({
  container: 's', time: 't', seq: 'n', events: 'n', status: 's', exitCode: 'n?', oomKilled: 'b', lastSignal: 'n?', health: 's?',
  startedAt: 't?', finishedAt: 't?', name: 's', image: 's', command: 's', probeCmd: 's?', gaps: 'n', exitedCount: 'n',
});
const PROC_SPEC = spec({
  key: 's', pid: 'n', ppid: 'n', parentKey: 's?', exe: 's', argv: 'S', uid: 'n?', cwd: 's?', comm: 's?', source: 's', start: 't',
  exit: 't?', exitCode: 'n?', signal: 'n?', probe: 'b?',
});
const CONN_SPEC = spec({ key: 's', proto: 's', local: 's', remote: 's', op: 's', pid: 'n?', procKey: 's?', since: 't', source: 's' });
const LISTEN_SPEC = spec({ key: 's', proto: 's', local: 's', pid: 'n?', procKey: 's?', since: 't', source: 's' });
const FILE_SPEC = spec({ path: 's', ops: 'S', count: 'n', first: 't', last: 't', pid: 'n?', newPath: 's?' });
const LOG_SPEC = spec({ time: 't', seq: 'n', stream: 's', text: 's', truncated: 'n?' });
const STATS_SPEC = spec({
  time: 't', cpuPercent: 'n?', memUsage: 'n?', memLimit: 'n?', cpuTotalNs: 'n?', pids: 'n?', netRx: 'n?', netTx: 'n?', blkRead: 'n?', blkWrite: 'n?',
});
const GAP_SPEC = spec({ time: 't', reason: 's', lost: 'n?' });

function fitsSpec(o: unknown, spec: Spec): string | undefined {
  if (!isPlain(o)) return '(entry)';
  for (let i = 0; i < spec.length; i++) {
    const [f, t] = spec[i]!;
    const v = o[f];
    if (v === undefined) {
      if (t.endsWith('?')) continue;
      return f;
    }
    const ok = t[0] === 's' ? typeof v === 'string' : t[0] === 'n' ? typeof v === 'number' : t[0] === 't' ? time(v) : t[0] === 'b' ? typeof v === 'boolean' : Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (!ok) return f;
  }
  return undefined;
}

interface StateShape {
  procs: Map<unknown, unknown>; conns: Map<unknown, unknown>; listening: Map<unknown, unknown>; files: Map<unknown, unknown>;
  logs: unknown[]; stats: unknown[]; lastGap?: unknown;
}

/** Throws DECODE naming the first field of a decoded keyframe state that has the wrong type. */
export function checkState(s: StateShape): void {
  const bad = (where: string, f: string | undefined): void => {
    if (f !== undefined) throw new FormatError('DECODE', `keyframe state is damaged: ${where}${f === '(entry)' ? '' : ` field ${f}`} has the wrong type`);
  };
  bad('state', fitsSpec(s, STATE_SPEC));
  const lists: [string, Iterable<unknown>, Spec][] = [
    ['process', s.procs.values(), PROC_SPEC], ['connection', s.conns.values(), CONN_SPEC], ['listening socket', s.listening.values(), LISTEN_SPEC],
    ['file', s.files.values(), FILE_SPEC], ['log', s.logs, LOG_SPEC], ['stats sample', s.stats, STATS_SPEC],
  ];
  for (const [where, items, spec] of lists) for (const x of items) bad(where, fitsSpec(x, spec));
  if (s.lastGap !== undefined) bad('last gap', fitsSpec(s.lastGap, GAP_SPEC));
}
