/**
 * The timeline under the header: event density per bucket across the whole window, incident
 * markers and gaps. Small containers are counted exactly from their entries (no value decoding);
 * large ones from LevelDB's size estimate per column in a local store, else from the keyframes'
 * cumulative event counts at each bucket boundary, so opening a million-event container reads
 * table indexes or one keyframe per column instead of a million events.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import { P_EVENT, P_KEYFRAME, cidBytes, timeKey } from '../formats/keys.js';
import { KINDS } from '../formats/schema.js';
import { decodeKeyframeHeader } from '../formats/keyframe.js';
import { listIncidents } from '../formats/queries.js';
import { decodeRaw, scanEvents, type RawEvent } from '../formats/event-scan.js';
import { isCopiedGap } from './window.js';

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

/** Containers up to this many events are counted event by event. */
export const EXACT_LIMIT = 50_000;
const GAP_NUM = KINDS.gap.num;

function bucketOf(t: number, start: number, span: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.floor(((t - start) / span) * n)));
}

/** `gapKept`: which gap events become markers (all when absent). */
async function exactCount(kv: KVReader, id: string, start: number, end: number, buckets: number[], gaps: Marker[], gapKept?: (r: RawEvent) => boolean): Promise<void> {
  const cid = cidBytes(id);
  const span = Math.max(1, end - start + 1);
  for await (const raws of scanEvents(kv, { gte: timeKey(P_EVENT, cid, start, 0), lt: timeKey(P_EVENT, cid, end + 1, 0) })) {
    for (const r of raws) {
      buckets[bucketOf(r.time, start, span, buckets.length)]!++;
      if (r.kindNum === GAP_NUM && (!gapKept || gapKept(r))) gaps.push({ time: r.time, label: 'gap' });
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

/** A reader that can estimate the stored size of a key range (the local LevelDB store can). */
interface SizedKV extends KVReader { approximateSize(gte: Uint8Array, lt: Uint8Array): Promise<number> }
const isSized = (kv: KVReader): kv is SizedKV => typeof (kv as Partial<SizedKV>).approximateSize === 'function';

/**
 * Below this many stored bytes per column, LevelDB's size estimate (block granular: 64 KiB
 * blocks) is too coarse and the keyframes are used instead.
 */
const MIN_COLUMN_BYTES = 256 * 1024;

/**
 * Large containers in a local store: LevelDB's estimate of the stored bytes per column, scaled by
 * the container's events per stored byte. It reads only table indexes: on a freshly written store,
 * whose level-0 tables all overlap, one keyframe read per column had to seek in every table
 * (measured with bench/replay-seek.ts: ~150 ms for 80 columns, against ~2 ms). False when the
 * window is too small for the estimate.
 */
async function sizedCount(kv: SizedKV, r: ContainerRecord, start: number, end: number, buckets: number[]): Promise<boolean> {
  const cid = cidBytes(r.id);
  const n = buckets.length;
  const span = Math.max(1, end - start + 1);
  const bounds = Array.from({ length: n + 1 }, (_, k) => timeKey(P_EVENT, cid, start + Math.floor((span * k) / n), 0));
  const [all, window] = await Promise.all([kv.approximateSize(...rangeOf(cid)), kv.approximateSize(bounds[0]!, bounds[n]!)]);
  if (all <= 0 || window < MIN_COLUMN_BYTES * n) return false;
  const sizes = await Promise.all(buckets.map((_, k) => kv.approximateSize(bounds[k]!, bounds[k + 1]!)));
  const perByte = r.events / all;
  for (let k = 0; k < n; k++) buckets[k]! += Math.round(sizes[k]! * perByte);
  return true;
}
const rangeOf = (cid: Uint8Array): [Uint8Array, Uint8Array] => [timeKey(P_EVENT, cid, 0, 0), timeKey(P_EVENT, cid, Number.MAX_SAFE_INTEGER, 0)];

export async function buildTimeline(kv: KVReader, records: ContainerRecord[], start: number, end: number, width: number): Promise<Timeline> {
  const buckets = new Array<number>(Math.max(1, width)).fill(0);
  const gaps: Marker[] = [];
  let exact = true;
  for (const r of records) {
    if (r.events <= EXACT_LIMIT) await exactCount(kv, r.id, start, end, buckets, gaps);
    else {
      exact = false;
      if (!(isSized(kv) && (await sizedCount(kv, r, start, end, buckets)))) await estimatedCount(kv, r, start, end, buckets);
    }
  }
  // Host-level gaps (engine unreachable, recorder down, lost events) concern every container.
  // Those each container has a copy of are marked from the copies, which only the exact count
  // reads; for a container counted by estimate the host's own stands in.
  const hostGaps: Marker[] = [];
  await exactCount(kv, '', start, end, new Array<number>(1).fill(0), hostGaps, exact ? (r) => !isCopiedGap(decodeRaw(r)) : undefined);
  const ids = new Set(records.map((r) => r.id));
  const incidents = (await listIncidents(kv))
    .filter((i) => ids.has(i.container) && i.time >= start && i.time <= end)
    .map((i) => ({ time: i.time, id: i.id, label: `${i.trigger}: ${i.title}` }));
  return { start, end, buckets, incidents, gaps: [...gaps, ...hostGaps].sort((a, b) => a.time - b.time), exact };
}
