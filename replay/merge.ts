/**
 * Merges several time-ordered event streams into one, by (time, seq). Runs, not single events:
 * every event of the leading stream that comes before the next stream's head is taken at once,
 * so the usual window (one container plus the host's gap stream, mostly empty) passes its
 * chunks through without a comparison per event (bench/replay-seek.ts, `--format json`).
 */
/** Anything with a place in the timeline: a decoded event, or a stored one not decoded yet. */
export interface Positioned { time: number; seq: number }

const OUT = 1000;

/** a before b; on a tie the stream listed first (lower index) goes first. */
const before = (a: Positioned, ai: number, b: Positioned, bi: number): boolean =>
  a.time < b.time || (a.time === b.time && (a.seq < b.seq || (a.seq === b.seq && ai < bi)));

export async function* mergeStreams<T extends Positioned>(streams: AsyncIterable<T[]>[]): AsyncIterable<T[]> {
  if (streams.length === 1) return yield* streams[0]!;
  const its = streams.map((s) => s[Symbol.asyncIterator]());
  const next = async (i: number): Promise<T[] | undefined> => {
    for (;;) {
      const n = await its[i]!.next();
      if (n.done) return undefined;
      if ((n.value as T[]).length > 0) return n.value as T[];
    }
  };
  const heads: (T[] | undefined)[] = await Promise.all(its.map((_, i) => next(i)));
  const pos = heads.map(() => 0);
  let out: T[] = [];
  for (;;) {
    // The leading stream and the runner-up (whose head bounds the run taken from the leader).
    let best = -1;
    let second = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h) continue;
      const e = h[pos[i]!]!;
      if (best === -1 || before(e, i, heads[best]![pos[best]!]!, best)) { second = best; best = i; }
      else if (second === -1 || before(e, i, heads[second]![pos[second]!]!, second)) second = i;
    }
    if (best === -1) break;
    const h = heads[best]!;
    const p = pos[best]!;
    let end = h.length;
    if (second !== -1) {
      const bound = heads[second]![pos[second]!]!;
      end = p + 1;
      while (end < h.length && before(h[end]!, best, bound, second)) end++;
    }
    if (p === 0 && end === h.length && out.length === 0) yield h;
    else for (let k = p; k < end; k++) out.push(h[k]!);
    if (end >= h.length) {
      heads[best] = await next(best);
      pos[best] = 0;
    } else {
      pos[best] = end;
    }
    if (out.length >= OUT) { yield out; out = []; }
  }
  if (out.length) yield out;
}
