/**
 * Rolling retention, in the background: by age (`--retain`), by total size (`--max-size`, with a
 * max-min fair share per container so one noisy container cannot evict everyone's history),
 * oldest first. Events inside pinned incident windows stay until their pin expires
 * (`--pin-retain`) or pinned bytes exceed `--pin-max` (oldest pins go first, logged). Deletes go
 * in small batches between which ingestion batches run; deleted ranges are then compacted so the
 * space really comes back. Keyframes go with their events, except the nearest one before each
 * kept range so seeking keeps working; the latest snapshot before a cut stays while the container
 * has events; records and names of removed containers go when their last event does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KVWriter } from '../formats/kv.js';
import type { ContainerRecord, GcReport, IncidentRecord } from '../formats/records.js';
import { P_EVENT, P_KEYFRAME, containerKey, incidentKey, nameKey, timeRange } from '../formats/keys.js';
import { pack } from '../formats/codec.js';
import { importPins, listContainers, listImportEntries, listIncidents, type ImportRecord } from '../formats/queries.js';
import { nowMicros, toRfc3339 } from '../formats/time.js';
import { formatBytes } from '../formats/units.js';
import type { Logger } from './logger.js';
import { activePins, fairCaps, pinnedByContainer, pinsOverCap, sizeTarget, type Interval } from './retention-plan.js';
import { deleteEvents, deleteKeyframes, seekFrames } from './retention-delete.js';
import type { RetentionOptions } from './retention-options.js';
import { firstEventTime, storeBytes, timeForExcess, windowBytes } from './retention-store.js';

export { RETENTION_DEFAULTS, type RetentionOptions } from './retention-options.js';

const SIZE_CHECK_MS = 5000;
/** Trim-and-measure rounds of one pass over the size (see #pass). */
const SIZE_ROUNDS = 3;
/** The most of a store's size that a pass attributes to files other than event tables. */
const OVERHEAD_MAX = 1 << 20;

export class Retention {
  readonly #kv: KVWriter;
  readonly #opts: RetentionOptions;
  readonly #log: Logger;
  #running: Promise<GcReport> | undefined;
  #following: Promise<GcReport> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastPassAt = 0;
  /** Set by stop(): a running pass finishes its current batch and returns, so shutdown is quick. */
  #stopping = false;
  /** Bytes of closed pinned windows, which no longer change. */
  readonly #pinBytes = new Map<string, number>();
  lastPass: GcReport | undefined;
  /** Since the recorder started: passes run, events deleted, the largest store size a pass found. */
  readonly totals = { passes: 0, deletedEvents: 0, maxSizeBefore: 0 };
  pinned = { windows: 0, bytes: 0 };

  /** `book`: the recorder's in-memory records, which it writes on its own (none for `dashcam gc`). */
  constructor(kv: KVWriter, opts: RetentionOptions, log: Logger, book?: { deduct(id: string, n: number): ContainerRecord | undefined }) {
    this.#kv = kv;
    this.#opts = opts;
    this.#log = log;
    this.#book = book;
  }

  readonly #book: { deduct(id: string, n: number): ContainerRecord | undefined } | undefined;

  get options(): RetentionOptions {
    return this.#opts;
  }

  get pinMax(): number {
    return this.#opts.pinMax ?? Math.floor(this.#opts.maxSize / 2);
  }

  get importMax(): number {
    return this.#opts.importMax ?? Math.floor(this.#opts.maxSize / 4);
  }

  /** Imported bundles kept out of retention after the last pass, and their bytes. */
  imported = { bundles: 0, bytes: 0 };
  /** Bytes of each import (its events never change; retention only deletes them once released). */
  readonly #importBytes = new Map<string, number>();

  /** Imported bytes over the cap: the imports longest in the store go back to retention first. */
  async #applyImportCap(now: number, report: GcReport): Promise<ImportRecord[]> {
    const entries = (await listImportEntries(this.#kv)).filter(([, r]) => importPins([r], now).length > 0);
    entries.sort(([, a], [, b]) => b.importedAt - a.importedAt);
    const kept: ImportRecord[] = [];
    let total = 0;
    for (const [k, r] of entries) {
      const id = Buffer.from(k).toString('latin1');
      let n = this.#importBytes.get(id);
      if (n === undefined) {
        n = 0;
        for (const iv of r.intervals ?? []) n += await windowBytes(this.#kv, iv.container, { from: iv.from, to: iv.to + 1 });
        this.#importBytes.set(id, n);
      }
      if (total + n <= this.importMax) {
        total += n;
        kept.push(r);
        continue;
      }
      r.retainUntil = now;
      await this.#kv.write([[k, pack(r)]]);
      (report.releasedImports ??= []).push(r.file);
      this.#log.warn(`retention: imported bytes over ${formatBytes(this.importMax)}; ${r.file} (${formatBytes(n)}, imported ${toRfc3339(r.importedAt)}) is now retained like recorded events`);
    }
    this.imported = { bundles: kept.length, bytes: total };
    return kept;
  }

  start(): void {
    this.#lastPassAt = Date.now();
    this.#timer = setInterval(() => void this.#tick(), Math.min(SIZE_CHECK_MS, this.#opts.intervalMs));
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #tick(): Promise<void> {
    if (this.#running) return;
    const due = Date.now() - this.#lastPassAt >= this.#opts.intervalMs;
    if (!due && (await storeBytes(this.#kv.location)) <= this.#opts.maxSize) return;
    try {
      await this.pass();
    } catch (err) {
      this.#log.error(`retention pass failed: ${(err as Error).message}`);
    }
  }

  /**
   * One pass that starts now or later (`dashcam gc`). A pass already running started before this
   * request and may have measured the store before what came since, so it is waited for and then
   * followed by one more, shared by every request that arrived meanwhile.
   */
  pass(): Promise<GcReport> {
    if (this.#running) {
      return (this.#following ??= this.#running.catch(() => undefined).then(() => {
        this.#following = undefined;
        return this.pass();
      }));
    }
    return (this.#running = this.#pass().finally(() => {
      this.#running = undefined;
      this.#lastPassAt = Date.now();
    }));
  }

  async #pass(): Promise<GcReport> {
    const t0 = performance.now();
    const now = nowMicros();
    const kv = this.#kv;
    const report: GcReport = { startedAt: now, ms: 0, deletedEvents: 0, deletedKeyframes: 0, deletedContainers: 0, deletedIncidents: 0, unpinned: [], sizeBefore: await storeBytes(kv.location), sizeAfter: 0 };
    const incidents = await listIncidents(kv);
    const pins = await this.#applyPinCap(activePins(incidents, now), now, report);
    // Imported events are evidence from elsewhere: kept like pins, outside the pin cap, until the
    // import's own --retain (if any) runs out.
    const imported = importPins(await this.#applyImportCap(now, report), now);
    const pinned = pinnedByContainer(pins, imported);
    const records = new Map((await listContainers(kv)).map((r) => [r.id, r]));
    const containers = ['', ...records.keys()];
    const cuts = new Map(containers.map((c) => [c, now - this.#opts.retain]));
    const gone = new Set<string>();
    // Sizes measured while ingestion and LevelDB's own compactions are in flux (memtables not yet
    // in tables, obsolete tables not yet deleted) can be off by megabytes; after this pass's own
    // compaction they are settled. So: trim, measure again, and trim again while still over.
    let size = report.sizeBefore;
    for (let round = 0; round < SIZE_ROUNDS && !this.#stopping; round++) {
      const moved = await this.#sizeCuts(containers, pinned, cuts, size, now);
      if (round > 0 && !moved) break;
      const deleted = await this.#trim(containers, records, pinned, cuts, gone, report);
      size = await storeBytes(kv.location);
      if (!deleted || size <= sizeTarget(this.#opts.maxSize)) break;
    }
    report.deletedIncidents = await this.#dropExpiredIncidents(incidents.filter((r) => !imported.some((k) => k.container === r.container && r.time >= k.from && r.time <= k.to)), cuts, gone, now);
    report.sizeAfter = size;
    report.horizon = await this.horizon(containers);
    report.ms = Math.round(performance.now() - t0);
    this.lastPass = report;
    this.totals.passes++;
    this.totals.deletedEvents += report.deletedEvents;
    this.totals.maxSizeBefore = Math.max(this.totals.maxSizeBefore, report.sizeBefore);
    if (report.deletedEvents > 0 || report.unpinned.length > 0) {
      this.#log.info(`retention: deleted ${report.deletedEvents} events, ${report.deletedContainers} gone containers; store ${formatBytes(report.sizeBefore)} → ${formatBytes(report.sizeAfter)} in ${report.ms} ms`);
    }
    return report;
  }

  /**
   * Deletes every container's events before its cut (keeping pinned windows and, while events
   * remain, the latest snapshot), drops the records of removed containers left empty, and
   * compacts what was deleted. Returns how many events it deleted.
   */
  async #trim(containers: string[], records: Map<string, ContainerRecord>, pinned: Map<string, Interval[]>, cuts: Map<string, number>, gone: Set<string>, report: GcReport): Promise<number> {
    const kv = this.#kv;
    /** Ranges to compact, with the deleted keys at the two ends of what was deleted in each. */
    const compactions: { gte: Uint8Array; lt: Uint8Array; ends: Uint8Array[] }[] = [];
    let count = 0;
    for (const c of containers) {
      if (this.#stopping) break;
      if (gone.has(c)) continue;
      const cut = cuts.get(c)!;
      const first = await firstEventTime(kv, c);
      if (first === undefined || first >= cut) continue;
      const pins = pinned.get(c) ?? [];
      const remains = pins.length > 0 || (await firstEventTime(kv, c, cut)) !== undefined;
      const frames = await seekFrames(kv, c, cut, pins, remains);
      const deleted = await deleteEvents(kv, c, cut, pins, remains, () => this.#stopping);
      count += deleted.count;
      report.deletedKeyframes += await deleteKeyframes(kv, c, cut, pins, remains, frames);
      const ends = deleted.first && deleted.last ? [deleted.first, deleted.last] : [];
      compactions.push({ ...timeRange(P_EVENT, c, 0, cut), ends }, { ...timeRange(P_KEYFRAME, c, 0, cut), ends: [] });
      const rec = records.get(c);
      if (!remains && rec && (rec.removed || rec.state === 'removed')) {
        await kv.write([], [containerKey(c), ...rec.names.map((n) => nameKey(n, c))]);
        gone.add(c);
        report.deletedContainers++;
      } else if (rec && deleted.count > 0) {
        // `ls` counts what the store holds: the recorder's own copy of the record when it has
        // one (it would write its count back over ours), else the stored one.
        const now = this.#book?.deduct(c, deleted.count) ?? { ...rec, events: Math.max(0, rec.events - deleted.count) };
        await kv.write([[containerKey(c), pack(now)]]);
        records.set(c, { ...now });
      }
    }
    report.deletedEvents += count;
    for (const { gte, lt, ends } of compactions) {
      if (this.#stopping) break;
      // A pause after each range lets LevelDB's one background thread flush ingestion's memtables.
      const t0 = performance.now();
      // Readers (replays over the query socket) pin deleted data while they run: wait for a moment
      // without any, bounded so retention never stalls behind a long export.
      await kv.readersIdle?.(5000);
      // A compaction under a reader's snapshot (this pass's own scan, or a replay) keeps deleted
      // data together with its tombstones, and may push both into LevelDB's bottom level, which
      // compactRange only rewrites when a file from the level above overlaps it. Deleting the two
      // end keys once more (already gone; event keys are never reused) lays a fresh tombstone file
      // over the whole deleted span, so compacting it down rewrites every bottom file under it and
      // drops what no snapshot needs any more (measured: a 24 MiB cap left at 36 MB without this).
      if (ends.length) await kv.write([], ends);
      await kv.compact(gte, lt);
      await sleep(Math.min(200, performance.now() - t0));
    }
    return count;
  }

  /** Pinned bytes over the cap: the oldest pins go first, each one logged. */
  async #bytesOf(pins: IncidentRecord[], now: number): Promise<Map<string, number>> {
    const bytes = new Map<string, number>();
    for (const p of pins) {
      const key = `${p.id}/${p.windowStart}/${p.windowEnd}`;
      let n = this.#pinBytes.get(key);
      if (n === undefined) {
        n = await windowBytes(this.#kv, p.container, { from: p.windowStart, to: p.windowEnd + 1 });
        if (p.windowEnd < now) this.#pinBytes.set(key, n);
      }
      bytes.set(p.id, n);
    }
    return bytes;
  }

  /** Pinned windows and their bytes right now (`dashcam status`). */
  async pinnedNow(): Promise<{ windows: number; bytes: number }> {
    const now = nowMicros();
    const pins = activePins(await listIncidents(this.#kv), now);
    const bytes = await this.#bytesOf(pins, now);
    this.pinned = { windows: pins.length, bytes: [...bytes.values()].reduce((a, b) => a + b, 0) };
    return this.pinned;
  }

  async #applyPinCap(pins: IncidentRecord[], now: number, report: GcReport): Promise<IncidentRecord[]> {
    const bytes = await this.#bytesOf(pins, now);
    const drop = pinsOverCap(pins, bytes, this.pinMax);
    for (const p of drop) {
      p.unpinned = now;
      report.unpinned.push(p.id);
      this.#log.warn(`retention: pinned bytes over ${formatBytes(this.pinMax)}; unpinned incident ${p.id} (${p.trigger} on ${p.container.slice(0, 12)}, ${formatBytes(bytes.get(p.id) ?? 0)})`);
    }
    if (drop.length) await this.#kv.write(drop.map((p) => [incidentKey(p.time, p.id), pack(p)]));
    const kept = pins.filter((p) => p.unpinned === undefined);
    this.pinned = { windows: kept.length, bytes: kept.reduce((s, p) => s + (bytes.get(p.id) ?? 0), 0) };
    return kept;
  }

  /** Over the size target: each container's cut moves forward to its fair share. Whether any moved. */
  async #sizeCuts(containers: string[], pinned: Map<string, Interval[]>, cuts: Map<string, number>, size: number, now: number): Promise<boolean> {
    const target = sizeTarget(this.#opts.maxSize);
    if (size <= target) return false;
    let moved = false;
    const aim = target * 0.9; // hysteresis: do not run again as soon as one batch lands
    const sizes = new Map<string, number>();
    let events = 0;
    let pinnedTotal = 0;
    for (const c of containers) {
      const r = timeRange(P_EVENT, c);
      const all = await this.#kv.approximateSize(r.gte, r.lt);
      let pin = 0;
      for (const p of pinned.get(c) ?? []) {
        const pr = timeRange(P_EVENT, c, p.from, p.to);
        pin += await this.#kv.approximateSize(pr.gte, pr.lt);
      }
      events += all;
      pinnedTotal += pin;
      if (all - pin > 0) sizes.set(c, all - pin);
    }
    // What the store holds beside event tables. In flux (a write-ahead log, obsolete tables not
    // yet deleted) this reads megabytes too high, and paying for it with events would delete far
    // more history than needed; the next round measures the settled store (see #pass).
    const overhead = Math.min(Math.max(0, size - events), OVERHEAD_MAX);
    const caps = fairCaps(sizes, aim - overhead - pinnedTotal);
    for (const [c, s] of sizes) {
      const cap = caps.get(c) ?? 0;
      if (s - cap < 64 * 1024) continue;
      const first = await firstEventTime(this.#kv, c);
      if (first === undefined) continue;
      const t = await timeForExcess(this.#kv, c, first, now, s - cap, pinned.get(c) ?? []);
      if (t > cuts.get(c)!) {
        cuts.set(c, t);
        moved = true;
      }
    }
    return moved;
  }

  /**
   * Incident records whose pin time is over and whose window's events are gone, or whose container
   * went. A pin dropped early for the cap keeps its record (marked unpinned) until its pin time.
   */
  async #dropExpiredIncidents(incidents: IncidentRecord[], cuts: Map<string, number>, gone: Set<string>, now: number): Promise<number> {
    const dels = incidents
      .filter((r) => gone.has(r.container) || (r.pinUntil <= now && r.windowEnd < (cuts.get(r.container) ?? 0)))
      .map((r) => incidentKey(r.time, r.id));
    if (dels.length) await this.#kv.write([], dels);
    return dels.length;
  }

  /** The oldest retained event time. */
  async horizon(containers?: string[]): Promise<number | undefined> {
    const ids = containers ?? ['', ...(await listContainers(this.#kv)).map((r) => r.id)];
    let min: number | undefined;
    for (const c of ids) {
      const t = await firstEventTime(this.#kv, c);
      if (t !== undefined && (min === undefined || t < min)) min = t;
    }
    return min;
  }
}
