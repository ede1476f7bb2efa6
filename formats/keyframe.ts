/**
 * Keyframe values (`k|cid|time|seq`, key = the last event the state includes).
 *
 *   value = msgpack [KEYFRAME_FORMAT, STATE_VERSION, events, body]
 *   body  = msgpack [field0, field1, ...]   (STATE_FIELDS order; records as positional rows)
 *
 * Like events, every list of fields only grows by appending, so an older keyframe is a shorter
 * array; KEYFRAME_FORMAT rises with each such change. The header is cheap to read without the body
 * (the timeline's density comes from `events`). A keyframe whose STATE_VERSION differs from the
 * reader's is not used: it holds another reducer's answer. `events < 0` marks a keyframe the
 * recorder withdrew (an event arrived later than it could fold in order).
 */
import { pack, packLarge, unpack } from './codec.js';
import { FormatError } from './errors.js';
import { KINDS } from './schema.js';
import { STATE_VERSION, emptyState, type ContainerState } from './state.js';
import { checkState } from './value-check.js';

export const KEYFRAME_FORMAT = 1;

const PROC_FIELDS = ['key', 'pid', 'ppid', 'parentKey', 'exe', 'argv', 'uid', 'cwd', 'comm', 'source', 'start', 'exit', 'exitCode', 'signal', 'probe'] as const;
const CONN_FIELDS = ['key', 'proto', 'local', 'remote', 'op', 'pid', 'procKey', 'since', 'source'] as const;
const LISTEN_FIELDS = ['key', 'proto', 'local', 'pid', 'procKey', 'since', 'source'] as const;
const FILE_FIELDS = ['path', 'ops', 'count', 'first', 'last', 'pid', 'newPath'] as const;
const LOG_FIELDS = ['time', 'seq', 'stream', 'text', 'truncated'] as const;
/** Follows the schema's stats fields, which only grow by appending. */
const STATS_FIELDS = ['time', ...KINDS.stats.fields] as const;
const GAP_FIELDS = ['time', 'reason', 'lost'] as const;
/** `livePid` is derived from `procs` and rebuilt on decode. */
const STATE_FIELDS = [
  'container', 'time', 'seq', 'events', 'status', 'exitCode', 'oomKilled', 'lastSignal', 'health', 'startedAt', 'finishedAt',
  'name', 'image', 'command', 'probeCmd', 'procs', 'conns', 'listening', 'files', 'logs', 'stats', 'gaps', 'lastGap', 'exitedCount',
] as const;

type Rec = Record<string, unknown>;

function toRow(o: object, fields: readonly string[]): unknown[] {
  const r = o as Rec;
  let n = fields.length;
  while (n > 0 && r[fields[n - 1]!] === undefined) n--;
  const row = new Array<unknown>(n);
  for (let i = 0; i < n; i++) row[i] = r[fields[i]!] ?? null;
  return row;
}

function fromRow<T>(row: unknown, fields: readonly string[]): T {
  if (!Array.isArray(row)) throw new FormatError('DECODE', 'keyframe row is not an array');
  const o: Rec = {};
  const n = Math.min(row.length, fields.length);
  for (let i = 0; i < n; i++) if (row[i] !== null && row[i] !== undefined) o[fields[i]!] = row[i];
  return o as T;
}

const rows = (m: Iterable<object>, f: readonly string[]): unknown[][] => Array.from(m, (x) => toRow(x, f));

export function encodeKeyframe(s: ContainerState): Buffer {
  const body: Rec = {
    ...s,
    procs: rows(s.procs.values(), PROC_FIELDS),
    conns: rows(s.conns.values(), CONN_FIELDS),
    listening: rows(s.listening.values(), LISTEN_FIELDS),
    files: rows(s.files.values(), FILE_FIELDS),
    logs: rows(s.logs, LOG_FIELDS),
    stats: rows(s.stats, STATS_FIELDS),
    lastGap: s.lastGap ? toRow(s.lastGap, GAP_FIELDS) : undefined,
  };
  // The bytes of pack([KEYFRAME_FORMAT, STATE_VERSION, events, pack(row)]), in one buffer of the
  // keyframe's own, with the body packed through packLarge (codec.ts says why).
  return packLarge(toRow(body, STATE_FIELDS), (b) => {
    const head = pack([KEYFRAME_FORMAT, STATE_VERSION, s.events, EMPTY]); // ends with bin8 of length 0
    const n = b.length;
    const bin = n < 0x100 ? [0xc4, n] : n < 0x10000 ? [0xc5, n >>> 8, n & 0xff] : [0xc6, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    const out = Buffer.allocUnsafeSlow(head.length - 2 + bin.length + n);
    head.copy(out, 0, 0, head.length - 2);
    out.set(bin, head.length - 2);
    b.copy(out, head.length - 2 + bin.length);
    return out;
  });
}
const EMPTY = new Uint8Array(0);

/** The marker that withdraws a keyframe. */
export function withdrawnKeyframe(): Buffer {
  return pack([KEYFRAME_FORMAT, STATE_VERSION, -1, null]);
}

export interface KeyframeHeader {
  format: number;
  stateVersion: number;
  /** Events applied, or -1 when withdrawn. */
  events: number;
  /** Usable by this reader: same reducer version and not withdrawn. */
  usable: boolean;
  body: Uint8Array | undefined;
}

export function decodeKeyframeHeader(value: Uint8Array): KeyframeHeader {
  const arr = unpack<unknown>(value, 'keyframe');
  if (!Array.isArray(arr) || typeof arr[0] !== 'number' || typeof arr[1] !== 'number' || typeof arr[2] !== 'number') {
    throw new FormatError('DECODE', 'keyframe value is not a keyframe');
  }
  const body = arr[3] instanceof Uint8Array ? arr[3] : undefined;
  return { format: arr[0], stateVersion: arr[1], events: arr[2], usable: arr[1] === STATE_VERSION && arr[2] >= 0 && body !== undefined, body };
}

/** Decodes a usable keyframe's state (throws DECODE on anything else). */
export function decodeKeyframe(value: Uint8Array): ContainerState {
  const h = decodeKeyframeHeader(value);
  if (!h.usable || !h.body) throw new FormatError('DECODE', `keyframe not usable (state version ${h.stateVersion}, this dashcam ${STATE_VERSION})`);
  const b = fromRow<Rec>(unpack<unknown>(h.body, 'keyframe body'), STATE_FIELDS);
  const s = emptyState(typeof b.container === 'string' ? b.container : '');
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  Object.assign(s, b, {
    procs: new Map(list(b.procs).map((r) => { const p = fromRow<{ key: string }>(r, PROC_FIELDS); return [p.key, p]; })),
    conns: new Map(list(b.conns).map((r) => { const c = fromRow<{ key: string }>(r, CONN_FIELDS); return [c.key, c]; })),
    listening: new Map(list(b.listening).map((r) => { const c = fromRow<{ key: string }>(r, LISTEN_FIELDS); return [c.key, c]; })),
    files: new Map(list(b.files).map((r) => { const f = fromRow<{ path: string }>(r, FILE_FIELDS); return [f.path, f]; })),
    logs: list(b.logs).map((r) => fromRow(r, LOG_FIELDS)),
    stats: list(b.stats).map((r) => fromRow(r, STATS_FIELDS)),
  });
  if (b.lastGap !== undefined) s.lastGap = fromRow(b.lastGap, GAP_FIELDS);
  if (typeof b.oomKilled !== 'boolean') s.oomKilled = false;
  checkState(s);
  s.livePid = new Map();
  for (const p of s.procs.values()) if (p.exit === undefined && p.pid > 0) s.livePid.set(p.pid, p.key);
  return s;
}
