/** Store measurements retention needs: size on disk, first event, bytes in a window, size bisection. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KVReader, KVWriter } from '../formats/kv.js';
import { P_EVENT, timeRange } from '../formats/keys.js';
import { scanEvents } from '../formats/event-scan.js';
import type { Interval } from './retention-plan.js';

/** Bytes of the files in the store directory (LevelDB keeps it flat). */
export async function storeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const st = await stat(join(dir, f)).catch(() => undefined);
    if (st?.isFile()) total += st.size;
  }
  return total;
}

/** Time of a container's oldest event at or after `from`, if any. */
export async function firstEventTime(kv: KVReader, container: string, from = 0): Promise<number | undefined> {
  for await (const raws of scanEvents(kv, { ...timeRange(P_EVENT, container, from), limit: 1 })) {
    if (raws.length) return raws[0]!.time;
  }
  return undefined;
}

/** Exact key+value bytes of a container's events in a window (pins are small; read them). */
export async function windowBytes(kv: KVReader, container: string, w: Interval): Promise<number> {
  let n = 0;
  for await (const chunk of kv.chunks(timeRange(P_EVENT, container, w.from, w.to))) {
    for (const [k, v] of chunk) n += k.length + v.length;
  }
  return n;
}

/**
 * The time T such that a container's unpinned events before T take about `excess` bytes on disk
 * (LevelDB's approximateSize, which reads only table indexes). Bisects over time.
 */
export async function timeForExcess(kv: KVWriter, container: string, first: number, last: number, excess: number, pinned: readonly Interval[]): Promise<number> {
  const sizeBefore = async (t: number): Promise<number> => {
    const r = timeRange(P_EVENT, container, 0, t);
    let n = await kv.approximateSize(r.gte, r.lt);
    for (const p of pinned) {
      if (p.from >= t) break;
      const pr = timeRange(P_EVENT, container, p.from, Math.min(p.to, t));
      n -= await kv.approximateSize(pr.gte, pr.lt);
    }
    return n;
  };
  let lo = first;
  let hi = last + 1;
  if ((await sizeBefore(hi)) <= excess) return hi;
  for (let i = 0; i < 48 && hi - lo > 1000; i++) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await sizeBefore(mid)) < excess) lo = mid;
    else hi = mid;
  }
  return hi;
}
