/**
 * The store entries an export carries, in global key order (so the bundle's events part is sorted
 * as written): host-level gaps of the window, each container's events, the incidents, and the
 * keyframes needed to seek (the last one before the window start, and those inside it).
 * Containers come in the selection's order, which is sorted by ID (export-select.ts).
 */
import type { KVEntry, KVReader } from '../formats/kv.js';
import { P_EVENT, P_INCIDENT, P_KEYFRAME, cidBytes, prefixRange, timeRange } from '../formats/keys.js';
import { encodeValue, pack, unpack } from '../formats/codec.js';
import { encodeEntries, type StoredEvent } from '../formats/event-block.js';
import { decodeRaw, scanEvents } from '../formats/event-scan.js';
import { KINDS } from '../formats/schema.js';
import type { IncidentRecord } from '../formats/records.js';
import type { Selection } from './export-select.js';
import type { StrictRedactor } from './redact-strict.js';

const GAP = KINDS.gap.num;
const SNAPSHOT = KINDS.snapshot.num;

export interface EntryStats {
  perContainer: Map<string, number>;
  /** Keyframes that strict redaction could not read, so dropped rather than exported unmasked. */
  droppedKeyframes: number;
}

/**
 * One container's events over a range as fresh entries: in order (scanEvents merges the store's
 * overlapping entries) and grouped into blocks again, with each event's value the store's own
 * bytes (or its strictly redacted re-encoding). So a bundle holds exactly the window's events
 * even where the window cuts a block, and its entries never overlap. `keep` filters by kind
 * number (host ranges: gaps only). Yields entries and how many events they hold.
 */
async function* rangeEntries(kv: KVReader, container: string, from: number | undefined, to: number | undefined, r: StrictRedactor | undefined, keep?: (kindNum: number) => boolean): AsyncIterable<[KVEntry[], number]> {
  const cid = cidBytes(container);
  for await (const raws of scanEvents(kv, timeRange(P_EVENT, container, from, to))) {
    const evs: StoredEvent[] = [];
    for (const e of raws) {
      if (keep && !keep(e.kindNum)) continue;
      evs.push({ time: e.time, seq: e.seq, value: r ? encodeValue(r.event(decodeRaw(e))) : e.value() });
    }
    if (evs.length) yield [encodeEntries(cid, evs), evs.length];
  }
}

export async function* exportEntries(kv: KVReader, sel: Selection, redactor: StrictRedactor | undefined, stats: EntryStats): AsyncIterable<KVEntry[]> {
  const { from, to } = sel;
  const hostFrom = from ?? Math.min(...sel.records.map((r) => r.firstSeen));
  for await (const [entries] of rangeEntries(kv, '', hostFrom, to, redactor, (k) => k === GAP)) yield entries;
  for (const r of sel.records) {
    let n = 0;
    for await (const [entries, count] of rangeEntries(kv, r.id, from, to, redactor)) {
      n += count;
      yield entries;
    }
    stats.perContainer.set(r.id, n);
  }
  if (sel.incidents.length) {
    const ids = new Set(sel.incidents.map((i) => i.id));
    for await (const chunk of kv.chunks(prefixRange(P_INCIDENT))) {
      const mine = chunk.filter(([, v]) => ids.has(unpack<IncidentRecord>(v, 'incident record').id));
      if (mine.length) yield redactor ? mine.map(([k, v]) => [k, pack(redactor.deep(unpack(v, 'incident record')))]) : mine;
    }
  }
  for (const r of sel.records) {
    const frames: KVEntry[] = [];
    if (from !== undefined) {
      for await (const chunk of kv.chunks({ ...timeRange(P_KEYFRAME, r.id, 0, from), reverse: true, limit: 1 })) frames.push(...chunk);
    }
    for await (const chunk of kv.chunks(timeRange(P_KEYFRAME, r.id, from, to))) frames.push(...chunk);
    if (frames.length) yield redactor ? redactFrames(frames, redactor, stats) : frames;
  }
}

function redactFrames(frames: KVEntry[], r: StrictRedactor, stats: EntryStats): KVEntry[] {
  const out: KVEntry[] = [];
  for (const [k, v] of frames) {
    try {
      out.push([k, pack(r.deep(unpack(v, 'keyframe')))]);
    } catch {
      stats.droppedKeyframes++;
    }
  }
  return out;
}

/** Strict redaction needs every snapshot of the window first: a stopped container's latest one has lost its IPs. */
export async function windowSnapshots(kv: KVReader, sel: Selection): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const r of sel.records) {
    for await (const raws of scanEvents(kv, timeRange(P_EVENT, r.id, sel.from, sel.to))) {
      for (const e of raws) {
        if (e.kindNum !== SNAPSHOT) continue;
        const ev = decodeRaw(e);
        if (ev.kind === 'snapshot') out.push(ev.snapshot);
      }
    }
  }
  return out;
}
