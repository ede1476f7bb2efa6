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

async function* onlyGaps(src: AsyncIterable<DashEvent[]>): AsyncIterable<DashEvent[]> {
  for await (const chunk of src) {
    const gaps = chunk.filter((e) => e.kind === 'gap');
    if (gaps.length) yield gaps;
  }
}

export async function openWindow(kv: KVReader, q: WindowQuery): Promise<Window> {
  const records: ContainerRecord[] = [];
  for (const c of q.containers) {
    const r = await resolveContainer(kv, c);
    if (!records.some((x) => x.id === r.id)) records.push(r);
  }
  const streams = records.map((r) => eventChunks(kv, r.id, q.from, q.to));
  if (q.hostGaps !== false) {
    // Host gaps matter only while one of the containers existed.
    const from = q.from ?? Math.min(...records.map((r) => r.firstSeen));
    const end = records.some((r) => !r.removed) ? undefined : Math.max(...records.map((r) => r.lastSeen)) + 1;
    const to = q.to === undefined ? end : end === undefined ? q.to : Math.min(q.to, end);
    streams.push(onlyGaps(eventChunks(kv, '', from, to)));
  }
  return { records, events: mergeStreams(streams) };
}
