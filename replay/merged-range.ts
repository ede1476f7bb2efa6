/**
 * Several containers' key ranges read lazily and merged by (time, seq), forwards or backwards,
 * one event at a time: the cursor's steps, scans and the event list read only as far as they need.
 */
import type { KVReader } from '../formats/kv.js';
import type { DashEvent } from '../formats/schema.js';
import { readEvents } from '../formats/event-scan.js';

export interface RangeSpec {
  gte: Uint8Array;
  lt: Uint8Array;
  /** Only events passing this (host ranges: gaps only). */
  keep?: (ev: DashEvent) => boolean;
  limit?: number;
}

async function* one(kv: KVReader, spec: RangeSpec, reverse: boolean): AsyncGenerator<DashEvent> {
  // The limit bounds what is read, so it counts events before `keep` (as it counted keys).
  for await (const evs of readEvents(kv, { gte: spec.gte, lt: spec.lt, reverse, ...(spec.limit ? { limit: spec.limit } : {}) })) {
    for (const ev of evs) if (!spec.keep || spec.keep(ev)) yield ev;
  }
}

const later = (a: DashEvent, b: DashEvent): boolean => a.time > b.time || (a.time === b.time && a.seq > b.seq);

export async function* mergedEvents(kv: KVReader, specs: RangeSpec[], reverse = false): AsyncGenerator<DashEvent> {
  const its = specs.map((s) => one(kv, s, reverse));
  try {
    const heads = await Promise.all(its.map(async (it) => (await it.next()).value as DashEvent | undefined));
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (!h) continue;
        if (best === -1 || (reverse ? later(h, heads[best]!) : later(heads[best]!, h))) best = i;
      }
      if (best === -1) return;
      yield heads[best]!;
      heads[best] = (await its[best]!.next()).value as DashEvent | undefined;
    }
  } finally {
    await Promise.all(its.map((it) => it.return(undefined)));
  }
}
