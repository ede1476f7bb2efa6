/**
 * A replay window: one or more containers' events in [from, to), merged in time order, with the
 * host-level gaps of that interval (engine unreachable, recorder down, dropped events) folded in,
 * since they concern every container.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import type { DashEvent } from '../formats/schema.js';
import { resolveContainer } from '../formats/queries.js';
import { mergeStreams } from './merge.js';
import { FormatError } from '../formats/errors.js';
import { P_EVENT, timeRange } from '../formats/keys.js';
import { decodeChunks, decodeRaw, scanEvents, type RawEvent } from '../formats/event-scan.js';
import { KINDS } from '../formats/schema.js';
import { checkWindow } from './time-arg.js';

export interface WindowQuery {
  containers: string[];
  from?: number;
  to?: number;
  /** Include host-level gap events (default true). */
  hostGaps?: boolean;
}

export interface Window {
  records: ContainerRecord[];
  /** The window's events, decoded. Iterate this or `raw`, once. */
  events: AsyncIterable<DashEvent[]>;
  /** The same events as stored, not decoded (JSON Lines are written straight from the bytes). */
  raw: AsyncIterable<RawEvent[]>;
}

const GAP_NUM = KINDS.gap.num;

/**
 * The host's gap events in [from, to) that container windows show: not those of which each
 * container has its own copy (`perContainer`). Other host events are skipped by their kind byte,
 * not decoded: a busy host range costs a byte test per event, not a decode (bench/replay-seek.ts).
 * A value whose kind byte cannot be read is kept, so that decoding it reports the damage.
 */
async function* hostGaps(kv: KVReader, from: number | undefined, to: number | undefined): AsyncIterable<RawEvent[]> {
  for await (const raws of scanEvents(kv, timeRange(P_EVENT, '', from, to))) {
    const gaps = raws.filter((r) => r.kindNum === -1 || (r.kindNum === GAP_NUM && !isCopiedGap(decodeRaw(r))));
    if (gaps.length) yield gaps;
  }
}

/** A host gap whose every container has its own copy (recorder/docker/docker-source.ts). */
export function isCopiedGap(ev: DashEvent): boolean {
  return ev.kind === 'gap' && ev.perContainer === true;
}

export async function openWindow(kv: KVReader, q: WindowQuery): Promise<Window> {
  checkWindow(q.from, q.to);
  const records: ContainerRecord[] = [];
  for (const c of q.containers) {
    const r = await resolveContainer(kv, c);
    if (!records.some((x) => x.id === r.id)) records.push(r);
  }
  // No container, no window (a bundle whose manifest names none of its records ends here too).
  if (records.length === 0) throw new FormatError('BAD_ARGUMENT', 'nothing to replay: no container given (or none of the bundle\'s containers has a record)');
  const streams = records.map((r) => scanEvents(kv, timeRange(P_EVENT, r.id, q.from, q.to)));
  if (q.hostGaps !== false) {
    // Host gaps matter only while one of the containers existed.
    const from = q.from ?? Math.min(...records.map((r) => r.firstSeen));
    const end = records.some((r) => !r.removed) ? undefined : Math.max(...records.map((r) => r.lastSeen)) + 1;
    const to = q.to === undefined ? end : end === undefined ? q.to : Math.min(q.to, end);
    streams.push(hostGaps(kv, from, to));
  }
  const raw = mergeStreams(streams);
  return { records, raw, events: decodeChunks(raw) };
}
