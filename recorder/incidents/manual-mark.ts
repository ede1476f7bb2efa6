/**
 * `dashcam mark --container <id> [--note TEXT] [--before 5m --after 2m]`: a manual incident. With
 * a recorder running it goes through its query socket ('mark' command, so it merges with what the
 * engine sees); without one, `markOffline` writes the record and its timeline event directly.
 */
import { openLevelStore } from '../../formats/level-store.js';
import { P_EVENT, cidBytes, incidentKey, metaKey, timeKey } from '../../formats/keys.js';
import { encodeValue, pack } from '../../formats/codec.js';
import { getMeta, resolveContainer } from '../../formats/queries.js';
import type { KVReader } from '../../formats/kv.js';
import type { IncidentRecord } from '../../formats/records.js';
import type { DashEvent } from '../../formats/schema.js';
import { nowMicros } from '../../formats/time.js';
import { FormatError } from '../../formats/errors.js';
import { defaultIncidentConfig, type TriggerSettings } from './incident-config.js';
import type { IncidentCandidate } from './incident-types.js';
import { IncidentIds } from './incident-id.js';
import { RETENTION_DEFAULTS, type RetentionOptions } from '../retention.js';

export interface MarkArgs {
  container: string;
  note?: string;
  /** µs */
  before?: number;
  after?: number;
  time?: number;
}

function num(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FormatError('BAD_ARGUMENT', `mark: ${what} must be a non-negative number of microseconds`);
  return v;
}

/** Checks the socket command's arguments (they come from another process). */
export function markArgs(a: Record<string, unknown>): MarkArgs {
  if (typeof a.container !== 'string' || !a.container) throw new FormatError('BAD_ARGUMENT', 'mark needs a container');
  if (a.note !== undefined && typeof a.note !== 'string') throw new FormatError('BAD_ARGUMENT', 'mark: note must be text');
  return { container: a.container, note: a.note as string | undefined, before: num(a.before, 'before'), after: num(a.after, 'after'), time: num(a.time, 'time') };
}

export async function markCandidate(kv: KVReader, a: MarkArgs, t: TriggerSettings): Promise<IncidentCandidate> {
  const rec = await resolveContainer(kv, a.container);
  const note = a.note?.slice(0, 4096);
  return {
    time: a.time ?? nowMicros(), container: rec.id, trigger: 'manual', severity: t.severity,
    title: note ? `marked: ${note.split('\n')[0]!.slice(0, 120)}` : `marked by hand${rec.name ? ` on ${rec.name}` : ''}`,
    before: a.before ?? t.before, after: a.after ?? t.after, ...(note ? { note } : {}), source: 'dashcam',
  };
}

/** No recorder holds the store: write the incident and its marker event ourselves. */
export async function markOffline(store: string, a: MarkArgs): Promise<IncidentRecord> {
  const kv = await openLevelStore(store);
  try {
    const c = await markCandidate(kv, a, defaultIncidentConfig().triggers.manual);
    const ret = { ...RETENTION_DEFAULTS, ...((await getMeta<Partial<RetentionOptions>>(kv, 'retention')) ?? {}) };
    const seq = ((await getMeta<number>(kv, 'seq')) ?? 0) + 1;
    const rec: IncidentRecord = {
      id: new IncidentIds().next(c.time), time: c.time, container: c.container, trigger: 'manual', severity: c.severity, title: c.title,
      windowStart: c.time - c.before, windowEnd: c.time + c.after, pinUntil: c.time + c.after + ret.pinRetain, triggers: ['manual'],
      ...(c.note ? { note: c.note } : {}),
    };
    const ev = { kind: 'incident', source: 'dashcam', container: c.container, time: c.time, seq, id: rec.id, trigger: 'manual', severity: rec.severity, title: rec.title, windowStart: rec.windowStart, windowEnd: rec.windowEnd, note: c.note } as DashEvent;
    await kv.write([
      [timeKey(P_EVENT, cidBytes(c.container), c.time, seq), encodeValue(ev)],
      [incidentKey(rec.time, rec.id), pack(rec)],
      [metaKey('seq'), pack(seq)],
    ]);
    return rec;
  } finally {
    await kv.close();
  }
}
