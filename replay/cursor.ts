/**
 * The replay cursor over one or more containers' merged timeline. The position is an event key
 * (time, seq), inclusive: the state is every container's state after all events at or before it.
 * Seeking reads each container's nearest keyframe and its tail (formats/state-load.ts); stepping
 * forwards applies the events passed over; stepping backwards seeks.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import type { DashEvent } from '../formats/schema.js';
import { P_EVENT, cidBytes, timeKey } from '../formats/keys.js';
import type { ContainerState } from '../formats/state.js';
import { applyEvent } from '../formats/state-apply.js';
import { atTime, keyAfter, loadState, type Position } from '../formats/state-load.js';
import { mergedEvents, type RangeSpec } from './merged-range.js';
import { isCopiedGap } from './window.js';

export type { Position } from '../formats/state-load.js';
export type EventFilter = (ev: DashEvent, state: ContainerState | undefined) => boolean;

export interface CursorOptions {
  from?: number;
  to?: number;
  /** Use keyframes (default true); false replays from the start (tests compare the two). */
  keyframes?: boolean;
}

/** Forward scans apply every event passed; beyond this many, a seek is cheaper. */
const APPLY_LIMIT = 20_000;
/** Host gaps a container's cursor applies (not those each container has a copy of). */
const isGap = (ev: DashEvent): boolean => ev.kind === 'gap' && !isCopiedGap(ev);

export class Cursor {
  readonly #kv: KVReader;
  readonly records: ContainerRecord[];
  readonly start: number;
  #end: number;
  readonly #keyframes: boolean;
  #pos: Position;
  #states = new Map<string, ContainerState>();
  /** Timing of the last seek, for the bench and the TUI's status line. */
  lastSeekMs = 0;

  private constructor(kv: KVReader, records: ContainerRecord[], opts: CursorOptions) {
    this.#kv = kv;
    this.records = records;
    this.start = opts.from ?? Math.min(...records.map((r) => r.firstSeen));
    this.#end = opts.to ?? Math.max(...records.map((r) => r.lastSeen));
    this.#keyframes = opts.keyframes !== false;
    this.#pos = { time: this.start, seq: 0 };
  }

  static async open(kv: KVReader, records: ContainerRecord[], opts: CursorOptions = {}): Promise<Cursor> {
    const c = new Cursor(kv, records, opts);
    await c.seek({ time: c.start, seq: 0 });
    return c;
  }

  get pos(): Position { return this.#pos; }
  get end(): number { return this.#end; }
  get states(): ContainerState[] { return this.records.map((r) => this.#states.get(r.id)!); }
  state(id: string): ContainerState | undefined { return this.#states.get(id); }

  async seek(p: Position): Promise<void> {
    const t0 = performance.now();
    const loaded = await Promise.all(this.records.map((r) => loadState(this.#kv, r.id, p, { keyframes: this.#keyframes })));
    this.#states = new Map(loaded.map((l, i) => [this.records[i]!.id, l.state]));
    this.#pos = p;
    this.lastSeekMs = performance.now() - t0;
  }

  seekTime(t: number): Promise<void> {
    return this.seek(atTime(Math.max(this.start, Math.min(this.end, t))));
  }

  #specs(from: Uint8Array | ((cid: Uint8Array) => Uint8Array), to: (cid: Uint8Array) => Uint8Array, limit?: number): RangeSpec[] {
    const specs: RangeSpec[] = this.records.map((r) => {
      const cid = cidBytes(r.id);
      return { gte: typeof from === 'function' ? from(cid) : from, lt: to(cid), ...(limit ? { limit } : {}) };
    });
    const host = cidBytes('');
    specs.push({ gte: timeKey(P_EVENT, host, this.start, 0), lt: timeKey(P_EVENT, host, this.end + 1, 0), keep: isGap });
    const h = specs[specs.length - 1]!;
    h.gte = maxKey(h.gte, typeof from === 'function' ? from(host) : from);
    h.lt = minKey(h.lt, to(host));
    return specs;
  }

  /** Events after the position (ascending), up to the window's end. */
  after(limit?: number): AsyncGenerator<DashEvent> {
    const p = this.#pos;
    return mergedEvents(this.#kv, this.#specs((cid) => keyAfter(P_EVENT, cid, p), (cid) => timeKey(P_EVENT, cid, this.end + 1, 0), limit));
  }

  /** Events at or before the position (descending), down to the window's start. */
  upTo(limit?: number): AsyncGenerator<DashEvent> {
    const p = this.#pos;
    return mergedEvents(this.#kv, this.#specs((cid) => timeKey(P_EVENT, cid, this.start, 0), (cid) => keyAfter(P_EVENT, cid, p), limit), true);
  }

  /** The last event at or before the position. */
  async current(): Promise<DashEvent | undefined> {
    for await (const ev of this.upTo(1)) return ev;
    return undefined;
  }

  /** Moves to the next event matching `match` (any event when omitted); false at the end. */
  async next(match?: EventFilter): Promise<DashEvent | undefined> {
    let applied = 0;
    let found: DashEvent | undefined;
    for await (const ev of this.after()) {
      const st = this.#states.get(ev.container);
      if (applied <= APPLY_LIMIT && st) applyEvent(st, ev);
      applied++;
      if (!match || match(ev, st)) { found = ev; break; }
    }
    // Nothing matched: the walk applied every later event to the states, so put them back as
    // they were at the position (which has not moved).
    if (!found) {
      if (applied > 0) await this.seek(this.#pos);
      return undefined;
    }
    if (applied > APPLY_LIMIT) await this.seek({ time: found.time, seq: found.seq });
    else this.#pos = { time: found.time, seq: found.seq };
    return found;
  }

  /** Moves to the previous event (before the current one) matching `match`. */
  async prev(match?: EventFilter): Promise<DashEvent | undefined> {
    let skippedCurrent = false;
    let found: DashEvent | undefined;
    for await (const ev of this.upTo()) {
      if (!skippedCurrent) {
        skippedCurrent = true;
        if (ev.time === this.#pos.time && ev.seq === this.#pos.seq) continue;
      }
      if (!match || match(ev, this.#states.get(ev.container))) { found = ev; break; }
    }
    if (found) await this.seek({ time: found.time, seq: found.seq });
    return found;
  }

  /** Applies events up to time `t` (forwards, cheap) or seeks (backwards or far). */
  async advanceTo(t: number): Promise<void> {
    const target = Math.min(this.end, t);
    if (target < this.#pos.time) return this.seekTime(target);
    let applied = 0;
    for await (const ev of this.after()) {
      if (ev.time > target) break;
      if (++applied > APPLY_LIMIT) return this.seekTime(target);
      const st = this.#states.get(ev.container);
      if (st) applyEvent(st, ev);
    }
    this.#pos = atTime(target);
  }

  /** Events around the position for the event list: up to `before` at or before it, `after` after it. */
  async around(before: number, after: number, keep?: EventFilter, scanCap = 50_000): Promise<{ before: DashEvent[]; after: DashEvent[] }> {
    const take = async (it: AsyncGenerator<DashEvent>, n: number): Promise<DashEvent[]> => {
      const out: DashEvent[] = [];
      if (n <= 0) return out;
      let scanned = 0;
      for await (const ev of it) {
        if (++scanned > scanCap || out.length >= n) break;
        if (!keep || keep(ev, this.#states.get(ev.container))) out.push(ev);
      }
      return out;
    };
    const limit = keep ? undefined : Math.max(before, after) + 1;
    const [b, a] = await Promise.all([take(this.upTo(limit), before), take(this.after(limit), after)]);
    return { before: b.reverse(), after: a };
  }

  /** Picks up events written since the cursor opened (`--follow`). */
  extendTo(end: number): void {
    this.#end = Math.max(this.#end, end);
  }
}

const cmp = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);
const maxKey = (a: Uint8Array, b: Uint8Array): Uint8Array => (cmp(a, b) >= 0 ? a : b);
const minKey = (a: Uint8Array, b: Uint8Array): Uint8Array => (cmp(a, b) <= 0 ? a : b);
