/**
 * Keeps the per-container records (names ever borne, image, first/last seen, state, exit code,
 * counts, latest snapshot) up to date from the event stream, and hands the changed ones to the
 * pipeline's next batch. Records of gone containers stay in the store; in memory we keep only
 * live ones and those removed within the last few minutes, so memory does not grow with history.
 * An evicted container is remembered by ID alone: a late event for it (a log line read after
 * removal) is still stored, but cannot replace its full record with a blank one.
 */
import type { KVEntry } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import type { DashEvent } from '../formats/schema.js';
import { containerKey, nameKey } from '../formats/keys.js';
import { pack } from '../formats/codec.js';

const STATE_BY_ACTION: Record<string, string> = {
  create: 'created', start: 'running', restart: 'running', unpause: 'running', pause: 'paused',
  die: 'exited', destroy: 'removed',
};

/** Removed containers stay in memory this long by default (late events still update their record). */
export const EVICT_AFTER_MS = 5 * 60_000;
const EVICT_SCAN_MS = 10_000;
const MAX_TOMBSTONES = 100_000;

export class ContainerBook {
  readonly #records = new Map<string, ContainerRecord>();
  /** IDs of removed containers evicted from memory (insertion order = age). */
  readonly #evicted = new Set<string>();
  #lastScan = 0;
  readonly #dirty = new Set<string>();
  #newNames: KVEntry[] = [];
  readonly #evictAfterUs: number;
  readonly #scanMs: number;

  constructor(evictAfterMs = EVICT_AFTER_MS) {
    this.#evictAfterUs = evictAfterMs * 1000;
    this.#scanMs = Math.min(EVICT_SCAN_MS, evictAfterMs);
  }

  /** Seeds the book with records already in the store (recorder restart). */
  load(records: Iterable<ContainerRecord>): void {
    for (const r of records) {
      if (r.removed) this.#tombstone(r.id);
      else this.#records.set(r.id, r);
    }
  }

  /** How many records are held in memory (for status and the leak test). */
  get size(): number {
    return this.#records.size;
  }

  get(id: string): ContainerRecord | undefined {
    return this.#records.get(id);
  }

  all(): IterableIterator<ContainerRecord> {
    return this.#records.values();
  }

  /** Called for every stamped event; `bytes` is its encoded size. Cheap on the hot path. */
  observe(ev: DashEvent, bytes: number): void {
    if (ev.container === '') return;
    let r = this.#records.get(ev.container);
    if (!r) {
      if (this.#evicted.has(ev.container)) return;
      r = { id: ev.container, name: '', names: [], image: '', firstSeen: ev.time, lastSeen: ev.time, state: 'unknown', events: 0, bytes: 0 };
      this.#records.set(ev.container, r);
    }
    r.events++;
    r.bytes += bytes;
    if (ev.time > r.lastSeen) r.lastSeen = ev.time;
    if (ev.time < r.firstSeen) r.firstSeen = ev.time;
    this.#dirty.add(ev.container);
    if (ev.kind === 'lifecycle' && ev.type === 'container') this.#lifecycle(r, ev.action, ev.attributes, ev.time);
    else if (ev.kind === 'snapshot') this.#snapshot(r, ev.snapshot);
  }

  #lifecycle(r: ContainerRecord, action: string, attrs: Record<string, string>, time: number): void {
    const state = STATE_BY_ACTION[action];
    if (state) r.state = state;
    if (action === 'removed' || action === 'destroy') r.removed = true;
    if (action === 'start') { r.startedAt = time; r.removed = false; delete r.exitCode; r.oomKilled = false; }
    if (action === 'die') {
      r.finishedAt = time;
      const code = Number(attrs.exitCode);
      if (Number.isFinite(code)) r.exitCode = code;
    }
    if (action === 'oom') r.oomKilled = true;
    if (attrs.name) this.#addName(r, attrs.name);
    if (attrs.image && !r.image) r.image = attrs.image;
  }

  #snapshot(r: ContainerRecord, snap: Record<string, unknown>): void {
    r.snapshot = snap;
    // This host's engine answered for it: no longer known only from a bundle.
    delete r.importedFrom;
    const s = snap as { Name?: string; Config?: { Image?: string; Cmd?: string[] | null; Entrypoint?: string[] | null; Labels?: Record<string, string>; Tty?: boolean }; Image?: string; State?: { Status?: string; ExitCode?: number; OOMKilled?: boolean } };
    if (s.Name) this.#addName(r, s.Name);
    if (s.Config?.Image) r.image = s.Config.Image;
    if (s.Image) r.imageId = s.Image;
    const cmd = [...(s.Config?.Entrypoint ?? []), ...(s.Config?.Cmd ?? [])];
    if (cmd.length) r.command = cmd.join(' ');
    if (s.Config?.Labels) r.labels = s.Config.Labels;
    if (s.Config?.Tty !== undefined) r.tty = s.Config.Tty;
    if (s.State?.Status && r.state !== 'removed') r.state = s.State.Status;
    if (s.State?.OOMKilled) r.oomKilled = true;
    if (s.State?.Status === 'exited' && typeof s.State.ExitCode === 'number') r.exitCode = s.State.ExitCode;
  }

  #addName(r: ContainerRecord, raw: string): void {
    const name = raw.replace(/^\//, '');
    if (!name) return;
    r.name = name;
    if (!r.names.includes(name)) {
      r.names.push(name);
      this.#newNames.push([nameKey(name, r.id), new Uint8Array(0)]);
    }
  }

  /** Retention deleted `n` of a container's events: its record counts what the store holds. */
  deduct(id: string, n: number): ContainerRecord | undefined {
    const r = this.#records.get(id);
    if (!r) return undefined;
    r.events = Math.max(0, r.events - n);
    return r;
  }

  /** The puts for records changed since the last call. */
  drain(): KVEntry[] {
    const out = this.#newNames;
    this.#newNames = [];
    for (const id of this.#dirty) {
      const r = this.#records.get(id);
      if (r) out.push([containerKey(id), pack(r)]);
    }
    this.#dirty.clear();
    this.sweep();
    return out;
  }

  /** Evicts removed containers seen last before the horizon (at most one scan per interval). */
  sweep(): void {
    const now = Date.now();
    if (now - this.#lastScan < this.#scanMs) return;
    this.#lastScan = now;
    const horizon = now * 1000 - this.#evictAfterUs;
    for (const r of this.#records.values()) {
      // A dirty record still has to reach the store: it goes at the next scan.
      if (r.removed && r.lastSeen < horizon && !this.#dirty.has(r.id)) {
        this.#records.delete(r.id);
        this.#tombstone(r.id);
      }
    }
  }

  #tombstone(id: string): void {
    this.#evicted.add(id);
    if (this.#evicted.size > MAX_TOMBSTONES) this.#evicted.delete(this.#evicted.values().next().value!);
  }
}
