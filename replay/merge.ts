/** Merges several time-ordered event streams into one, by (time, seq). */
import type { DashEvent } from '../formats/schema.js';

export async function* mergeStreams(streams: AsyncIterable<DashEvent[]>[]): AsyncIterable<DashEvent[]> {
  if (streams.length === 1) return yield* streams[0]!;
  const its = streams.map((s) => s[Symbol.asyncIterator]());
  const heads: (DashEvent[] | undefined)[] = await Promise.all(its.map(async (it) => (await it.next()).value as DashEvent[] | undefined));
  const pos = heads.map(() => 0);
  let out: DashEvent[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h) continue;
      const e = h[pos[i]!]!;
      const b = best === -1 ? undefined : heads[best]![pos[best]!]!;
      if (!b || e.time < b.time || (e.time === b.time && e.seq < b.seq)) best = i;
    }
    if (best === -1) break;
    out.push(heads[best]![pos[best]!]!);
    if (++pos[best]! >= heads[best]!.length) {
      const n = await its[best]!.next();
      heads[best] = n.done ? undefined : (n.value as DashEvent[]);
      pos[best] = 0;
    }
    if (out.length >= 1000) { yield out; out = []; }
  }
  if (out.length) yield out;
}
