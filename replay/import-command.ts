/**
 * `dashcam import FILE [--store DIR]`: merges a verified bundle into a store. Events keep the
 * source store's times and sequence numbers, so an event's identity (container, time, seq)
 * survives the trip: an event already present is skipped (a different value at the same position
 * is kept as it was and counted as a conflict), whatever blocks either side grouped it in (events
 * are compared one by one, not entries); keyframes and incidents the same by key; container
 * records merge; importing the same bundle twice adds nothing.
 */
import type { Writable } from 'node:stream';
import { basename } from 'node:path';
import type { KVEntry, KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import { FormatError } from '../formats/errors.js';
import { openLevelStore, type LevelStore } from '../formats/level-store.js';
import { P_EVENT, P_INCIDENT, P_KEYFRAME, cidBytes, cidFromBytes, containerKey, metaKey, nameKey, prefixRange, timeKey, timeRange } from '../formats/keys.js';
import { encodeEntries, type StoredEvent } from '../formats/event-block.js';
import { scanEvents, type RawEvent } from '../formats/event-scan.js';
import { keyAfter } from '../formats/state-load.js';
import { pack, unpack } from '../formats/codec.js';
import { getContainer, type ImportRecord } from '../formats/queries.js';
import { manifestDigests } from '../formats/bundle-manifest.js';
import { nowMicros } from '../formats/time.js';
import { openBundleKV } from './bundle-kv.js';
import { createProgress } from './progress.js';

export interface ImportOptions {
  file: string;
  store: string;
  /** Keep the imported events this long (µs) from now; by default retention never deletes them. */
  retain?: number;
}
export interface ImportResult { added: number; present: number; conflicts: number; events: number; containers: number; newContainers: number }

const BATCH = 4096;

/** Idempotent: merging the same record again changes nothing. */
export function mergeRecord(a: ContainerRecord | undefined, b: ContainerRecord): ContainerRecord {
  if (!a) return b;
  const newer = b.lastSeen > a.lastSeen ? b : a;
  const names = [...a.names ?? []];
  for (const n of b.names ?? []) if (!names.includes(n)) names.push(n);
  return { ...newer, names, firstSeen: Math.min(a.firstSeen, b.firstSeen), lastSeen: Math.max(a.lastSeen, b.lastSeen), events: Math.max(a.events, b.events), bytes: Math.max(a.bytes, b.bytes) };
}

async function openTarget(dir: string): Promise<LevelStore> {
  try {
    return await openLevelStore(dir, { create: true });
  } catch (err) {
    if (err instanceof FormatError && err.code === 'STORE_LOCKED') throw new FormatError('STORE_LOCKED', `store ${dir} is held by a running recorder; import into another --store, or stop the recorder first`, { cause: err });
    throw err;
  }
}

/** Puts the entries the store lacks; compares with what it holds over the batch's key span. */
async function mergeBatch(store: LevelStore, batch: KVEntry[], r: ImportResult): Promise<void> {
  const last = batch[batch.length - 1]![0];
  const lt = Buffer.concat([last, Buffer.from([0])]);
  const puts: KVEntry[] = [];
  let i = 0;
  for await (const chunk of store.chunks({ gte: batch[0]![0], lt })) {
    for (const [k, v] of chunk) {
      while (i < batch.length && Buffer.compare(batch[i]![0], k) < 0) puts.push(batch[i++]!);
      if (i < batch.length && Buffer.compare(batch[i]![0], k) === 0) {
        if (Buffer.compare(batch[i]![1], v) === 0) r.present++;
        else r.conflicts++;
        i++;
      }
    }
  }
  while (i < batch.length) puts.push(batch[i++]!);
  if (puts.length) await store.write(puts);
  r.added += puts.length;
}

/** The containers (and '' for the host) that have events in the bundle, in key order. */
async function eventContainers(kv: KVReader): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of kv.chunks(prefixRange(P_EVENT))) {
    for (const [k] of chunk) {
      const c = cidFromBytes(k);
      if (out[out.length - 1] !== c) out.push(c);
    }
  }
  return out;
}

/** Adds a batch of one container's bundle events (in order) that the store lacks. */
async function mergeEvents(store: LevelStore, container: string, batch: RawEvent[], r: ImportResult): Promise<number> {
  const cid = cidBytes(container);
  const last = batch[batch.length - 1]!;
  const range = { gte: timeKey(P_EVENT, cid, batch[0]!.time, batch[0]!.seq), lt: keyAfter(P_EVENT, cid, last) };
  const fresh: StoredEvent[] = [];
  let i = 0;
  const take = (upTo?: RawEvent): void => {
    while (i < batch.length && (!upTo || batch[i]!.time < upTo.time || (batch[i]!.time === upTo.time && batch[i]!.seq < upTo.seq))) {
      const e = batch[i++]!;
      fresh.push({ time: e.time, seq: e.seq, value: e.value() });
    }
  };
  for await (const have of scanEvents(store, range)) {
    for (const h of have) {
      take(h);
      const e = batch[i];
      if (e && e.time === h.time && e.seq === h.seq) {
        if (Buffer.compare(e.value(), h.value()) === 0) r.present++;
        else r.conflicts++;
        i++;
      }
    }
  }
  take();
  if (fresh.length) await store.write(encodeEntries(cid, fresh));
  r.added += fresh.length;
  r.events += fresh.length;
  return fresh.length;
}

export async function importCommand(opts: ImportOptions, out: Writable): Promise<ImportResult> {
  const b = await openBundleKV(opts.file);
  const store = await openTarget(opts.store);
  const r: ImportResult = { added: 0, present: 0, conflicts: 0, events: 0, containers: b.records.length, newContainers: 0 };
  try {
    const progress = createProgress('import', b.manifest.counts.events + b.manifest.counts.keyframes + b.manifest.counts.incidents);
    const intervals: { container: string; from: number; to: number }[] = [];
    // Events added per container: a record's count is what this store holds, not what the store
    // the bundle came from had (a bundle may hold part of a container's history).
    const added = new Map<string, number>();
    for (const c of await eventContainers(b.kv)) {
      let batch: RawEvent[] = [];
      const span = { container: c, from: Infinity, to: -Infinity, added: 0 };
      for await (const raws of scanEvents(b.kv, timeRange(P_EVENT, c))) {
        for (const e of raws) {
          if (e.time < span.from) span.from = e.time;
          if (e.time > span.to) span.to = e.time;
          batch.push(e);
          if (batch.length >= BATCH) { span.added += await mergeEvents(store, c, batch, r); progress.tick(batch.length); batch = []; }
        }
      }
      if (batch.length) { span.added += await mergeEvents(store, c, batch, r); progress.tick(batch.length); }
      added.set(c, span.added);
      if (span.from <= span.to) intervals.push({ container: c, from: span.from, to: span.to });
    }
    // The bundle's own i| and k| entries (c|, n| and m| are synthesized from its parts).
    for (const p of [P_INCIDENT, P_KEYFRAME]) {
      let batch: KVEntry[] = [];
      for await (const chunk of b.kv.chunks(prefixRange(p))) {
        for (const e of chunk) {
          batch.push([Buffer.from(e[0]), Buffer.from(e[1])]);
          if (batch.length >= BATCH) { await mergeBatch(store, batch, r); progress.tick(batch.length); batch = []; }
        }
      }
      if (batch.length) { await mergeBatch(store, batch, r); progress.tick(batch.length); }
    }
    progress.done();

    const puts: KVEntry[] = [];
    for (const rec of b.records) {
      const had = await getContainer(store, rec.id);
      if (!had) r.newContainers++;
      // A container new to this store is known only from the bundle: say where it was recorded.
      const base = had ? mergeRecord(had, rec) : { ...rec, importedFrom: rec.importedFrom ?? (b.manifest.host || 'a bundle') };
      const merged = pack({ ...base, events: (had?.events ?? 0) + (added.get(rec.id) ?? 0) });
      if (!had || Buffer.compare(merged, pack(had)) !== 0) puts.push([containerKey(rec.id), merged]);
      for (const n of new Set([...(rec.names ?? []), rec.name])) {
        const k = nameKey(n, rec.id);
        if (n && (await store.get(k)) === undefined) puts.push([k, new Uint8Array(0)]);
      }
    }
    // Importing once more with another --retain (or none) changes how long the bundle's events are
    // kept; importing again as before changes nothing.
    const importKey = metaKey(`import/${manifestDigests(b.manifestRaw).actual}`);
    const had = await store.get(importKey).then((v) => (v === undefined ? undefined : unpack<ImportRecord>(v, 'import record')));
    if (!had?.intervals || had.retainUntil !== undefined || opts.retain !== undefined) {
      const now = nowMicros();
      const rec: ImportRecord = {
        file: basename(opts.file), host: b.manifest.host, created: b.manifest.created, importedAt: now, events: b.manifest.counts.events, intervals,
        ...(opts.retain !== undefined ? { retainUntil: now + opts.retain } : {}),
      };
      puts.push([importKey, pack(rec)]);
    }
    if (puts.length) await store.write(puts);
  } finally {
    await store.close();
  }
  out.write(`imported ${opts.file} into ${opts.store}: ${r.events.toLocaleString('en-US')} new events (${r.added - r.events} other entries), ${r.present.toLocaleString('en-US')} already present${r.conflicts ? `, ${r.conflicts} conflicting entries kept as they were` : ''}; ${r.containers} containers (${r.newContainers} new); kept ${opts.retain === undefined ? 'until deleted by hand (out of retention)' : `for ${Math.round(opts.retain / 1e6)} s`}\n`);
  return r;
}
