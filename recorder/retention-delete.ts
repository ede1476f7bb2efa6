/**
 * The deleting half of a retention pass: a container's events and keyframes before a cut, in
 * small batches that leave LevelDB's single writer to ingestion between them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KVEntry, KVWriter } from '../formats/kv.js';
import { P_EVENT, P_KEYFRAME, cidBytes, timeKey, timeOfKey, timeRange } from '../formats/keys.js';
import { kindNum, kindNumAt } from '../formats/codec.js';
import { FormatError } from '../formats/errors.js';
import { entryCount, entrySpan, visitEntry } from '../formats/event-block.js';
import { encodeKeyframe } from '../formats/keyframe.js';
import { atTime, loadState } from '../formats/state-load.js';
import { inIntervals, overlapsIntervals, type Interval } from './retention-plan.js';

const DELETE_BATCH = 1000;
const SNAPSHOT = kindNum('snapshot');

/** Does the entry hold a snapshot event? (kind numbers straight from the bytes, nothing decoded) */
function holdsSnapshot(k: Uint8Array, v: Uint8Array): boolean {
  let found = false;
  visitEntry(k, v, (_t, _s, buf, off) => { found ||= kindNumAt(buf, off) === SNAPSHOT; });
  return found;
}

/** What deleteEvents deleted: how many events, and the first and last of their keys. */
export interface Deleted { count: number; first?: Uint8Array; last?: Uint8Array }

/**
 * Deletes a container's unpinned events before `cut`; keeps the latest snapshot if events remain.
 * An entry holding several events (a block) goes only when all of it lies before the cut and
 * outside every pin, so a block across either boundary stays whole: retention keeps at most
 * SPAN_MAX more than asked, never less. A damaged entry stays for replay to report.
 */
export async function deleteEvents(kv: KVWriter, c: string, cut: number, pins: readonly Interval[], keepSnapshot: boolean, stopping: () => boolean): Promise<Deleted> {
  const deleted: Deleted = { count: 0 };
  let held: [Uint8Array, number] | undefined;
  let dels: Uint8Array[] = [];
  let events = 0;
  const flush = async (): Promise<void> => {
    if (!dels.length) return;
    const t0 = performance.now();
    await kv.write([], dels);
    deleted.count += events;
    deleted.first ??= dels[0];
    deleted.last = dels[dels.length - 1];
    dels = [];
    events = 0;
    // LevelDB serializes writes: leave the store to ingestion at least as long as we held it.
    await sleep(Math.min(50, performance.now() - t0));
  };
  for await (const chunk of kv.chunks(timeRange(P_EVENT, c, 0, cut))) {
    for (const [k, v] of chunk) {
      let span: number;
      let n: number;
      try {
        span = entrySpan(v);
        n = entryCount(v);
        if (keepSnapshot && holdsSnapshot(k, v)) {
          if (timeOfKey(k) + span < cut && !overlapsIntervals(pins, timeOfKey(k), timeOfKey(k) + span)) {
            if (held) { dels.push(held[0]); events += held[1]; }
            held = [k, n];
          }
          continue;
        }
      } catch (err) {
        if (err instanceof FormatError) continue;
        throw err;
      }
      const first = timeOfKey(k);
      if (first + span >= cut || overlapsIntervals(pins, first, first + span)) continue;
      dels.push(k);
      events += n;
    }
    if (dels.length >= DELETE_BATCH) await flush();
    if (stopping()) break;
  }
  await flush();
  return deleted;
}

/**
 * Fresh keyframes just before each kept range (a pin inside the deleted span, and the cut itself
 * when events remain), with the state computed from the full history before anything is deleted:
 * replay seeks stay exact after the pass. Only for containers that have keyframes (the recorder
 * writes them), so computing one reads at most one keyframe interval of events.
 */
export async function seekFrames(kv: KVWriter, c: string, cut: number, pins: readonly Interval[], remains: boolean): Promise<KVEntry[]> {
  let any = false;
  for await (const chunk of kv.chunks({ ...timeRange(P_KEYFRAME, c, 0, cut), limit: 1 })) any ||= chunk.length > 0;
  if (!any) return [];
  const cid = cidBytes(c);
  const starts = [...pins.filter((p) => p.from < cut && p.from > 0).map((p) => p.from), ...(remains ? [cut] : [])];
  const out: KVEntry[] = [];
  for (const s of starts) {
    const { state } = await loadState(kv, c, atTime(s - 1));
    out.push([timeKey(P_KEYFRAME, cid, s - 1, Number.MAX_SAFE_INTEGER), encodeKeyframe(state)]);
  }
  return out;
}

/**
 * Keyframes before `cut` go. Without fresh seek frames (see seekFrames) the nearest one before
 * each kept range stays, so a seek there still finds a starting point.
 */
export async function deleteKeyframes(kv: KVWriter, c: string, cut: number, pins: readonly Interval[], remains: boolean, fresh: readonly KVEntry[]): Promise<number> {
  const keys: Uint8Array[] = [];
  for await (const chunk of kv.chunks(timeRange(P_KEYFRAME, c, 0, cut))) for (const [k] of chunk) keys.push(k);
  if (!keys.length && !fresh.length) return 0;
  const keep = new Set<number>();
  const starts = fresh.length ? [] : [...pins.filter((p) => p.from < cut).map((p) => p.from), ...(remains ? [cut] : [])];
  for (const s of starts) {
    let best = -1;
    for (let i = 0; i < keys.length && timeOfKey(keys[i]!) <= s; i++) best = i;
    if (best >= 0) keep.add(best);
  }
  const dels = keys.filter((k, i) => !keep.has(i) && !inIntervals(pins, timeOfKey(k)));
  for (let i = 0; i < dels.length; i += DELETE_BATCH) await kv.write([], dels.slice(i, i + DELETE_BATCH));
  if (fresh.length) await kv.write(fresh);
  return dels.length;
}
