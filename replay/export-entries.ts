/**
 * The store entries an export carries, in global key order (so the bundle's events part is sorted
 * as written): host-level gaps of the window, each container's events, the incidents, and the
 * keyframes needed to seek (the last one before the window start, and those inside it).
 */
import type { KVEntry, KVReader } from '../formats/kv.js';
import { P_EVENT, P_INCIDENT, P_KEYFRAME, prefixRange, timeRange } from '../formats/keys.js';
import { decodeEntry, encodeValue, pack, unpack } from '../formats/codec.js';
import { KINDS } from '../formats/schema.js';
import type { IncidentRecord } from '../formats/records.js';
import { kindNumOfValue } from '../formats/bundle-entries.js';
import type { Selection } from './export-select.js';
import type { StrictRedactor } from './redact-strict.js';

const GAP = KINDS.gap.num;
const SNAPSHOT = KINDS.snapshot.num;

export interface EntryStats {
  perContainer: Map<string, number>;
  /** Keyframes that strict redaction could not read, so dropped rather than exported unmasked. */
  droppedKeyframes: number;
}

function redactEvents(chunk: KVEntry[], r: StrictRedactor | undefined): KVEntry[] {
  if (!r) return chunk;
  return chunk.map(([k, v]) => [k, encodeValue(r.event(decodeEntry(k, v)))]);
}

export async function* exportEntries(kv: KVReader, sel: Selection, redactor: StrictRedactor | undefined, stats: EntryStats): AsyncIterable<KVEntry[]> {
  const { from, to } = sel;
  const hostFrom = from ?? Math.min(...sel.records.map((r) => r.firstSeen));
  for await (const chunk of kv.chunks(timeRange(P_EVENT, '', hostFrom, to))) {
    const gaps = chunk.filter(([, v]) => kindNumOfValue(v) === GAP);
    if (gaps.length) yield redactEvents(gaps, redactor);
  }
  for (const r of sel.records) {
    let n = 0;
    for await (const chunk of kv.chunks(timeRange(P_EVENT, r.id, from, to))) {
      n += chunk.length;
      yield redactEvents(chunk, redactor);
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
    for await (const chunk of kv.chunks(timeRange(P_EVENT, r.id, sel.from, sel.to))) {
      for (const [k, v] of chunk) {
        if (kindNumOfValue(v) !== SNAPSHOT) continue;
        const ev = decodeEntry(k, v);
        if (ev.kind === 'snapshot') out.push(ev.snapshot);
      }
    }
  }
  return out;
}
