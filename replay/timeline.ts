/**
 * The timeline under the header: event density per bucket across the whole window, incident
 * markers and gaps. Small containers are counted exactly from their keys (no value decoding);
 * large ones from the keyframes' cumulative event counts, so opening a million-event container
 * reads a few hundred keyframe headers instead of a million events.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import { P_EVENT, cidBytes, timeKey, timeOfKey } from '../formats/keys.js';
import { KINDS } from '../formats/schema.js';
import { keyframeIndex } from '../formats/state-load.js';
import { listIncidents } from '../formats/queries.js';

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

/** The kind number of a stored event value without decoding it: `[kind, source, ...]` as msgpack. */
function kindOfValue(v: Uint8Array): number {
  const h = v[0]!;
  if (h >= 0x90 && h <= 0x9f) return v[1]!;
  if (h === 0xdc) return v[3]!;
  return -1;
}

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

/** Spreads the events between consecutive keyframes evenly over the buckets they span. */
async function estimatedCount(kv: KVReader, r: ContainerRecord, start: number, end: number, buckets: number[]): Promise<void> {
  const pts = await keyframeIndex(kv, r.id, 0, end + 1);
  const first = pts.length ? pts[0]! : undefined;
  const points = [{ time: r.firstSeen, events: 0 }, ...pts, { time: Math.max(r.lastSeen, first?.time ?? 0), events: Math.max(r.events, pts[pts.length - 1]?.events ?? 0) }];
  const span = Math.max(1, end - start + 1);
  const n = buckets.length;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const count = Math.max(0, b.events - a.events);
    if (count === 0 || b.time < start || a.time > end) continue;
    const lo = bucketOf(Math.max(a.time, start), start, span, n);
    const hi = bucketOf(Math.min(b.time, end), start, span, n);
    const per = count / (hi - lo + 1);
    for (let k = lo; k <= hi; k++) buckets[k]! += per;
  }
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
