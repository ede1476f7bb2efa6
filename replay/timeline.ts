/**
 * The timeline under the header: event density per bucket across the whole window, incident
 * markers and gaps. Small containers are counted exactly from their keys (no value decoding);
 * large ones from the keyframes' cumulative event counts at each bucket boundary, so opening a
 * million-event container reads about one keyframe per column instead of a million events.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import { P_EVENT, P_KEYFRAME, cidBytes, timeKey, timeOfKey } from '../formats/keys.js';
import { KINDS } from '../formats/schema.js';
import { decodeKeyframeHeader } from '../formats/keyframe.js';
import { listIncidents } from '../formats/queries.js';
import { kindOfValue } from '../formats/codec.js';

export interface Marker { time: number; label: string }
export interface Timeline {
  start: number;
  end: number;
  buckets: number[];
  incidents: (Marker & { id: string })[];
  gaps: Marker[];
  /** Counted exactly (true) or interpolated between keyframes. */
  exact: boolean;
}

/** Containers up to this many events are counted key by key. */
export const EXACT_LIMIT = 50_000;
const GAP_NUM = KINDS.gap.num;

function bucketOf(t: number, start: number, span: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.floor(((t - start) / span) * n)));
}

async function exactCount(kv: KVReader, id: string, start: number, end: number, buckets: number[], gaps: Marker[]): Promise<void> {
  const cid = cidBytes(id);
  const span = Math.max(1, end - start + 1);
  for await (const chunk of kv.chunks({ gte: timeKey(P_EVENT, cid, start, 0), lt: timeKey(P_EVENT, cid, end + 1, 0) })) {
    for (const [k, v] of chunk) {
      const t = timeOfKey(k);
      buckets[bucketOf(t, start, span, buckets.length)]!++;
      if (kindOfValue(v) === GAP_NUM) gaps.push({ time: t, label: 'gap' });
    }
  }
}

/** Events a container had at time t: the count in the last usable keyframe at or before t (one short reverse read). */
async function eventsAt(kv: KVReader, cid: Uint8Array, t: number): Promise<number> {
  for await (const chunk of kv.chunks({ gte: timeKey(P_KEYFRAME, cid, 0, 0), lt: timeKey(P_KEYFRAME, cid, t + 1, 0), reverse: true, limit: 4 })) {
    for (const [, v] of chunk) {
      const h = decodeKeyframeHeader(v);
      if (h.events >= 0) return h.events;
    }
  }
  return 0;
}

/**
 * Large containers: the cumulative count at each bucket boundary from the nearest keyframe, so the
 * cost grows with the screen's width, not with the number of events or keyframes.
 */
async function estimatedCount(kv: KVReader, r: ContainerRecord, start: number, end: number, buckets: number[]): Promise<void> {
  const cid = cidBytes(r.id);
  const n = buckets.length;
  const span = Math.max(1, end - start + 1);
  const bounds = Array.from({ length: n + 1 }, (_, k) => start - 1 + Math.floor((span * k) / n));
  const cum = await Promise.all(bounds.map((b) => (b >= r.lastSeen ? Promise.resolve(r.events) : eventsAt(kv, cid, b))));
  for (let k = 0; k < n; k++) buckets[k]! += Math.max(0, cum[k + 1]! - cum[k]!);
}

export async function buildTimeline(kv: KVReader, records: ContainerRecord[], start: number, end: number, width: number): Promise<Timeline> {
  const buckets = new Array<number>(Math.max(1, width)).fill(0);
  const gaps: Marker[] = [];
  let exact = true;
  for (const r of records) {
    if (r.events <= EXACT_LIMIT) await exactCount(kv, r.id, start, end, buckets, gaps);
    else { exact = false; await estimatedCount(kv, r, start, end, buckets); }
  }
  // Host-level gaps (engine unreachable, recorder down, lost events) concern every container.
  const hostGaps: Marker[] = [];
  await exactCount(kv, '', start, end, new Array<number>(1).fill(0), hostGaps);
  const ids = new Set(records.map((r) => r.id));
  const incidents = (await listIncidents(kv))
    .filter((i) => ids.has(i.container) && i.time >= start && i.time <= end)
    .map((i) => ({ time: i.time, id: i.id, label: `${i.trigger}: ${i.title}` }));
  return { start, end, buckets, incidents, gaps: [...gaps, ...hostGaps].sort((a, b) => a.time - b.time), exact };
}
