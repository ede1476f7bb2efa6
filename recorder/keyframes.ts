/**
 * The keyframe writer: a pipeline observer that adds a keyframe to the current batch every
 * `everyEvents` events or `everyMicros` of event time per container, built with the same reducer
 * replay uses (formats/state-apply.ts).
 *
 * Between keyframes it keeps no state objects: only the last keyframe, encoded, and the events
 * since, as bytes. A keyframe is built in one go: decode the last one, fold the events, encode.
 * Keeping each container's state live and folding every event as it came cost 255 MB of resident
 * memory at 50,000 events/s against 121 MB without keyframes (bench/memory.ts): state entries
 * lived a few tenths of a second, long enough to be promoted, and the old generation filled with
 * them; built in one go they die young. Decoding the last keyframe costs about 1 ms per keyframe.
 *
 * The store orders events by (time, seq) but sources emit them out of time order (engine
 * timestamps, log copiers, kernel events held until their container is known), so events wait in a
 * per-container reorder buffer until they are `latenessMicros` older than the newest one, and an
 * event may still slot in among them until a keyframe folds them. An event older than the last
 * keyframe would make the keyframes after it wrong: they are withdrawn (overwritten with a marker
 * replay skips), the container's window grows to twice that lateness (up to `maxLatenessMicros`,
 * shrinking back 10% per keyframe), and its keyframing starts again from the store (resync): the
 * newest keyframe before the late event and the events since, read back once the late event is
 * written. Replay stays exact throughout; only seeks into the withdrawn stretch get longer.
 *
 * Why a small window that grows rather than a large fixed one: the window is most of what the
 * writer holds (every event of the last `latenessMicros`, as bytes). Sources that feed the
 * recorder at a high rate deliver promptly; lateness comes in bursts (a container's first kernel
 * events wait for its cgroup to be known; a log follower falls behind), and a burst costs one
 * store read. bench/memory.ts at 50,000 events/s, builds alternating: a fixed 2 s window held
 * 18 MB of event bytes and 148-151 MB resident, 0.5 s holds 9 MB and 137-144 MB.
 */
import type { KVEntry } from '../formats/kv.js';
import type { DashEvent } from '../formats/schema.js';
import { P_KEYFRAME, cidBytes, timeKey } from '../formats/keys.js';
import { STATE_LIMITS, emptyState, type ContainerState } from '../formats/state.js';
import { applyEvent, applyPosition } from '../formats/state-apply.js';
import { decodeKeyframe, encodeKeyframe, withdrawnKeyframe } from '../formats/keyframe.js';
import { atTime, type Position } from '../formats/state-load.js';
import type { Observer } from './pipeline.js';
import { ReorderBuffer } from './reorder-buffer.js';
import { decodeValueAt, kindNum, kindNumAt } from '../formats/codec.js';

export interface KeyframeOptions {
  everyEvents: number;
  everyMicros: number;
  /** The reorder window a container starts with. */
  latenessMicros: number;
  /** The most a container's window grows to after late events. */
  maxLatenessMicros: number;
}
export const KEYFRAME_DEFAULTS: KeyframeOptions = { everyEvents: 5000, everyMicros: 10_000_000, latenessMicros: 500_000, maxLatenessMicros: 10_000_000 };

/** Keyframe keys remembered per container, so a late event can withdraw those after it. */
const REMEMBER = 4096;
/** Every this many events, buffers of quiet containers are released too. */
const SWEEP = 1024;

interface Track {
  id: string;
  cid: Uint8Array;
  /** The state at the last keyframe, encoded (undefined: the empty state). */
  base: Uint8Array | undefined;
  /** Events since the last keyframe (released) and inside the lateness window (waiting). */
  buf: ReorderBuffer;
  maxTime: number;
  lastKfTime: number;
  /** Keyframes written this run. */
  written: Position[];
  /** Resumed after a restart: the last event stored before it (earlier runs' keyframes are at or before it). */
  resumedAt?: Position;
  /** This container's reorder window, µs. */
  lateness: number;
  /** Times this run it was read back from the store (at most MAX_RESYNCS). */
  resyncs: number;
}

/** Withdraws the stored keyframes of container `id` after `after`, up to `upTo` (those of earlier runs). */
export type WithdrawStored = (id: string, after: Position, upTo: Position) => void;

/** An event as stored: its position and encoded value. */
export interface StoredValue { time: number; seq: number; value: Uint8Array }

/** What a resync reads back. */
export interface ResyncRead {
  keyframe?: { pos: Position; state: ContainerState };
  events: StoredValue[];
  upTo: number;
}

/**
 * Reads a container back once the late event `late` is stored: its newest usable keyframe before
 * `late`, and every event after that keyframe up to `upTo`, a seq up to which every event is stored.
 */
export type ResyncReader = (id: string, late: Position) => Promise<ResyncRead>;

/** A container whose keyframing starts again from the store: what it held, and what came meanwhile. */
interface Resync {
  cid: Uint8Array;
  resyncs: number;
  written: Position[];
  resumedAt?: Position;
  lateness: number;
  /** Events seen while reading (copies; their bytes outlive the observer call). */
  meanwhile: StoredValue[];
}

const endsContainer = (ev: DashEvent): boolean => ev.kind === 'lifecycle' && ev.action === 'destroy' && ev.type === 'container';
const LIFECYCLE = kindNum('lifecycle');
/** Events a resync holds for its container while it reads, at most. */
const MEANWHILE_MAX = 50_000;
/**
 * Resyncs per container and run, at most: a source that stays later than the widest window would
 * have its container read back over and over; after this many it gets no more keyframes this run.
 */
const MAX_RESYNCS = 16;

const before = (a: Position, time: number, seq: number): boolean => a.time < time || (a.time === time && a.seq < seq);

export class KeyframeWriter {
  readonly #opts: KeyframeOptions;
  readonly #tracks = new Map<string, Track>();
  /** Containers with history this run cannot rebuild: no keyframes for them. */
  readonly #skip = new Set<string>();
  readonly #resyncs = new Map<string, Resync>();
  /**
   * Containers whose destroy a keyframe has folded, kept as long as the widest window
   * (maxLatenessMicros, past any source's hold): an event of theirs that comes after it (a kernel
   * event held until its container was known) withdraws the keyframes after it rather than start
   * a track of its own from an empty state.
   */
  readonly #ended = new Map<string, { cid: Uint8Array; written: Position[]; at: number }>();
  #maxTime = 0;
  #count = 0;
  readonly #withdrawStored: WithdrawStored | undefined;
  readonly #read: ResyncReader | undefined;
  readonly stats = { keyframes: 0, withdrawn: 0, late: 0, resyncs: 0 };

  /**
   * `read` lets a container whose events came too late start again from the store; without it
   * (a writer with no store behind it) such a container gets no more keyframes this run.
   */
  constructor(opts: Partial<KeyframeOptions> = {}, resumed: Iterable<ContainerState> = [], skip: Iterable<string> = [], withdrawStored?: WithdrawStored, read?: ResyncReader) {
    this.#opts = { ...KEYFRAME_DEFAULTS, ...opts };
    for (const s of resumed) this.#tracks.set(s.container, { ...this.#track(s.container, s), resumedAt: { time: s.time, seq: s.seq } });
    for (const id of skip) this.#skip.add(id);
    this.#withdrawStored = withdrawStored;
    this.#read = read;
  }

  #track(id: string, state?: ContainerState, lateness = this.#opts.latenessMicros): Track {
    const buf = new ReorderBuffer();
    const t = state?.time ?? 0;
    buf.releasedTime = buf.drainedTime = t;
    buf.releasedSeq = buf.drainedSeq = state?.seq ?? 0;
    const base = state && state.events > 0 ? encodeKeyframe(state) : undefined;
    return { id, cid: cidBytes(id), base, buf, maxTime: t, lastKfTime: t, written: [], lateness, resyncs: 0 };
  }

  readonly observe: Observer = (ev, out, value) => {
    if (ev.container === '') return;
    if (this.#skip.has(ev.container)) {
      if (endsContainer(ev)) this.#skip.delete(ev.container);
      return;
    }
    const done = this.#ended.get(ev.container);
    if (done) {
      const kept = this.#withdraw(done.cid, done.written, ev, out);
      if (kept.length < done.written.length) this.stats.late++;
      done.written = kept;
      return;
    }
    const r = this.#resyncs.get(ev.container);
    if (r) {
      // A store that does not take writes (a full disk) would hold the read up: not forever.
      if (r.meanwhile.push({ time: ev.time, seq: ev.seq, value: Buffer.from(value) }) > MEANWHILE_MAX) this.#giveUp(ev.container, r);
      return;
    }
    let t = this.#tracks.get(ev.container);
    if (!t) this.#tracks.set(ev.container, (t = this.#track(ev.container)));
    if (before(ev, t.buf.drainedTime, t.buf.drainedSeq)) return this.#late(t, ev, out);
    this.#add(t, ev.time, ev.seq, value, endsContainer(ev));
    this.#release(t, t.maxTime - t.lateness, out);
    if (++this.#count % SWEEP === 0) {
      for (const other of this.#tracks.values()) if (other !== t && other.buf.waiting > 0) this.#release(other, this.#maxTime - other.lateness, out);
    }
  };

  #add(t: Track, time: number, seq: number, value: Uint8Array, end: boolean): void {
    t.buf.push(time, seq, value, end);
    if (time > t.maxTime) t.maxTime = time;
    if (time > this.#maxTime) this.#maxTime = time;
  }

  #release(t: Track, watermark: number, out: KVEntry[]): void {
    const { buf } = t;
    if (buf.endReleased) return this.#end(t, out);
    while (buf.waiting > 0 && buf.firstWaitingTime() <= watermark) {
      if (buf.release()) return this.#end(t, out);
      if (buf.released >= this.#opts.everyEvents || buf.releasedTime - t.lastKfTime >= this.#opts.everyMicros) this.#write(t, out);
    }
  }

  /** The container's destroy is released: a last keyframe, and the track ends. */
  #end(t: Track, out: KVEntry[]): void {
    this.#write(t, out);
    this.#tracks.delete(t.id);
    this.#ended.set(t.id, { cid: t.cid, written: t.written, at: t.maxTime });
  }

  #write(t: Track, out: KVEntry[]): void {
    if (t.buf.released === 0) return;
    const state = t.base ? decodeKeyframe(t.base) : emptyState(t.id);
    t.buf.drain(t.id, (ev) => applyEvent(state, ev), (time, seq) => applyPosition(state, time, seq), STATE_LIMITS.logs);
    // A buffer of its own (formats/keyframe.ts), kept as the next base and stored.
    t.base = encodeKeyframe(state);
    out.push([timeKey(P_KEYFRAME, t.cid, state.time, state.seq), t.base]);
    this.stats.keyframes++;
    // A window grown by a burst of late events shrinks back while keyframes come without one.
    t.lateness = Math.max(this.#opts.latenessMicros, t.lateness * 0.9);
    t.lastKfTime = state.time;
    t.written.push({ time: state.time, seq: state.seq });
    if (t.written.length > REMEMBER) t.written.shift();
  }

  /** Withdraws the keyframes in `written` after `ev`; returns those kept. */
  #withdraw(cid: Uint8Array, written: Position[], ev: Position, out: KVEntry[]): Position[] {
    const kept: Position[] = [];
    for (const k of written) {
      if (before(ev, k.time, k.seq)) {
        out.push([timeKey(P_KEYFRAME, cid, k.time, k.seq), withdrawnKeyframe()]);
        this.stats.withdrawn++;
      } else kept.push(k);
    }
    return kept;
  }

  #late(t: Track, ev: DashEvent, out: KVEntry[]): void {
    this.stats.late++;
    const written = this.#withdraw(t.cid, t.written, ev, out);
    // Keyframes of earlier runs after it are only on disk: withdrawn from there.
    if (t.resumedAt && before(ev, t.resumedAt.time, t.resumedAt.seq)) this.#withdrawStored?.(t.id, { time: ev.time, seq: ev.seq }, t.resumedAt);
    this.#tracks.delete(t.id);
    if (!this.#read) {
      this.#skip.add(t.id);
      return;
    }
    const lateness = Math.min(this.#opts.maxLatenessMicros, Math.max(t.lateness, 2 * (t.maxTime - ev.time)));
    this.#resync(t.id, { cid: t.cid, resyncs: t.resyncs, written, lateness, meanwhile: [], ...(t.resumedAt ? { resumedAt: t.resumedAt } : {}) }, { time: ev.time, seq: ev.seq });
  }

  /**
   * Reads the container back from the store, from its newest keyframe before `late` (those after
   * it are being withdrawn), once `late` is stored: the read sees it and everything before it.
   */
  #resync(id: string, r: Resync, late: Position): void {
    if (r.resyncs >= MAX_RESYNCS) {
      this.#skip.add(id);
      return;
    }
    r.resyncs++;
    this.#resyncs.set(id, r);
    this.stats.resyncs++;
    this.#read!(id, late).then(
      (read) => {
        try {
          this.#resume(id, r, read);
        } catch {
          this.#giveUp(id, r);
        }
      },
      // The store could not be read (the recorder is closing, or the store is damaged).
      () => this.#giveUp(id, r),
    );
  }

  #giveUp(id: string, r: Resync): void {
    if (this.#resyncs.get(id) !== r) return;
    this.#resyncs.delete(id);
    this.#skip.add(id);
  }

  /**
   * Starts a container's track again from what the store holds (its keyframe and the events after
   * it up to `read.upTo`) and the events seen while that was read. Those wait in the reorder
   * buffer; the next event or sweep releases them and writes keyframes as usual. An event seen
   * meanwhile that is older than that keyframe makes it wrong too: read again from before it.
   */
  #resume(id: string, r: Resync, read: ResyncRead): void {
    if (this.#resyncs.get(id) !== r) return;
    this.#resyncs.delete(id);
    const from = read.keyframe?.pos ?? { time: 0, seq: 0 };
    const later = r.meanwhile.filter((e) => e.seq > read.upTo);
    const first = later.reduce<StoredValue | undefined>((a, e) => (!a || before(e, a.time, a.seq) ? e : a), undefined);
    if (first && before(first, from.time, from.seq)) {
      // Not in an observer call: the keyframes after it (all stored by now) are withdrawn through the store.
      const ev = { time: first.time, seq: first.seq };
      this.stats.late++;
      this.#withdrawStored?.(id, ev, atTime(Number.MAX_SAFE_INTEGER - 1));
      this.#resync(id, { ...r, written: r.written.filter((k) => !before(ev, k.time, k.seq)), meanwhile: [] }, ev);
      return;
    }
    const t = this.#track(id, read.keyframe?.state, r.lateness);
    t.resyncs = r.resyncs;
    t.written = r.written;
    if (r.resumedAt) t.resumedAt = r.resumedAt;
    for (const e of read.events.concat(later).sort((a, b) => a.time - b.time || a.seq - b.seq)) {
      const end = kindNumAt(e.value, 0) === LIFECYCLE && endsContainer(decodeValueAt(e.value, 0, e.value.length, e.time, e.seq, id));
      this.#add(t, e.time, e.seq, e.value, end);
    }
    this.#tracks.set(id, t);
  }

  /**
   * Releases the buffers of quiet containers by the wall clock (a pipeline sweeper): without it,
   * the last events of a container that went silent (its destroy, which drops its track) would
   * wait for some other container's events to move the watermark.
   */
  readonly sweep = (out: KVEntry[], now: number): void => {
    for (const t of [...this.#tracks.values()]) if (t.buf.waiting > 0) this.#release(t, now - t.lateness, out);
    for (const [id, e] of this.#ended) if (now - e.at > this.#opts.maxLatenessMicros) this.#ended.delete(id);
  };

  /** Per-container state held (for the leak test). */
  footprint(): Record<string, number> {
    return { keyframeTracks: this.#tracks.size, keyframeSkip: this.#skip.size, keyframeResyncs: this.#resyncs.size, keyframeEnded: this.#ended.size };
  }
}
