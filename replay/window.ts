/**
 * A replay window: one or more containers' events in [from, to), merged in time order, with the
 * host-level gaps of that interval (engine unreachable, recorder down, dropped events) folded in,
 * since they concern every container.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import type { DashEvent } from '../formats/schema.js';
import { eventChunks, resolveContainer } from '../formats/queries.js';
import { mergeStreams } from './merge.js';
import { FormatError } from '../formats/errors.js';
import { P_EVENT, timeRange } from '../formats/keys.js';
import { decodeRaw, scanEvents } from '../formats/event-scan.js';
import { KINDS } from '../formats/schema.js';

export interface WindowQuery {
  containers: string[];
  from?: number;
  to?: number;
  /** Include host-level gap events (default true). */
  hostGaps?: boolean;
}

export interface Window {
  records: ContainerRecord[];
  events: AsyncIterable<DashEvent[]>;
}

const GAP_NUM = KINDS.gap.num;

/**
 * The host's gap events in [from, to). Other host events are skipped by their kind byte, not
 * decoded: a busy host range costs a byte test per event, not a decode (bench/replay-seek.ts).
 */
async function* hostGaps(kv: KVReader, from: number | undefined, to: number | undefined): AsyncIterable<DashEvent[]> {
  for await (const raws of scanEvents(kv, timeRange(P_EVENT, '', from, to))) {
    const gaps: DashEvent[] = [];
    for (const r of raws) {
      const kind = r.kindNum;
      if (kind !== GAP_NUM && kind !== -1) continue;
      const ev = decodeRaw(r);
      if (ev.kind === 'gap') gaps.push(ev);
    }
    if (gaps.length) yield gaps;
  }
}

export async function openWindow(kv: KVReader, q: WindowQuery): Promise<Window> {
  const records: ContainerRecord[] = [];
  for (const c of q.containers) {
    const r = await resolveContainer(kv, c);
    if (!records.some((x) => x.id === r.id)) records.push(r);
  }
  // No container, no window (a bundle whose manifest names none of its records ends here too).
  if (records.length === 0) throw new FormatError('BAD_ARGUMENT', 'nothing to replay: no container given (or none of the bundle\'s containers has a record)');
  const streams = records.map((r) => eventChunks(kv, r.id, q.from, q.to));
  if (q.hostGaps !== false) {
    // Host gaps matter only while one of the containers existed.
    const from = q.from ?? Math.min(...records.map((r) => r.firstSeen));
    const end = records.some((r) => !r.removed) ? undefined : Math.max(...records.map((r) => r.lastSeen)) + 1;
    const to = q.to === undefined ? end : end === undefined ? q.to : Math.min(q.to, end);
    streams.push(hostGaps(kv, from, to));
  }
  return { records, events: mergeStreams(streams) };
}
