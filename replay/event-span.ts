/**
 * When the containers' events begin and end inside a window: an incident's pinned window is
 * minutes wide while a crash-looping container lives seconds, so the TUI's timeline zooms to this.
 */
import type { KVReader } from '../formats/kv.js';
import { P_EVENT, timeOfKey, timeRange } from '../formats/keys.js';

export interface Span { first: number; last: number }

export async function eventSpan(kv: KVReader, ids: readonly string[], from?: number, to?: number): Promise<Span | undefined> {
  let span: Span | undefined;
  const edge = async (id: string, reverse: boolean): Promise<number | undefined> => {
    for await (const chunk of kv.chunks({ ...timeRange(P_EVENT, id, from, to === undefined ? undefined : to + 1), reverse, limit: 1 })) {
      if (chunk[0]) return timeOfKey(chunk[0][0]);
    }
    return undefined;
  };
  for (const id of ids) {
    const [first, last] = await Promise.all([edge(id, false), edge(id, true)]);
    if (first === undefined || last === undefined) continue;
    span = span ? { first: Math.min(span.first, first), last: Math.max(span.last, last) } : { first, last };
  }
  return span;
}
