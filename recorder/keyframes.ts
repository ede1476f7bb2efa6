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
 * The store orders events by (time, seq) but sources emit them a little out of time order (engine
 * timestamps, log copiers), so events wait in a small per-container reorder buffer until they are
 * `latenessMicros` older than the newest one. An event later than that would make the keyframes
 * after it wrong: they are withdrawn (overwritten with a marker replay skips) and the container
 * gets no more keyframes this run; replay stays exact, only seeks get longer.
 */
import type { KVEntry, KVReader } from '../formats/kv.js';
import type { DashEvent } from '../formats/schema.js';
import type { ContainerRecord } from '../formats/records.js';
import { P_KEYFRAME, cidBytes, timeKey } from '../formats/keys.js';
import { STATE_LIMITS, emptyState, type ContainerState } from '../formats/state.js';
import { applyEvent, applyPosition } from '../formats/state-apply.js';
import { decodeKeyframe, encodeKeyframe, withdrawnKeyframe } from '../formats/keyframe.js';
import { atTime, keyAfter, loadState, type Position } from '../formats/state-load.js';
import type { Observer, Pipeline } from './pipeline.js';
import { ReorderBuffer } from './reorder-buffer.js';

export interface KeyframeOptions {
  everyEvents: number;
  everyMicros: number;
  latenessMicros: number;
}
export const KEYFRAME_DEFAULTS: KeyframeOptions = { everyEvents: 5000, everyMicros: 10_000_000, latenessMicros: 2_000_000 };

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
}

/** Withdraws the stored keyframes of container `id` after `after`, up to `upTo` (those of earlier runs). */
export type WithdrawStored = (id: string, after: Position, upTo: Position) => void;

const before = (a: Position, time: number, seq: number): boolean => a.time < time || (a.time === time && a.seq < seq);

export class KeyframeWriter {
  readonly #opts: KeyframeOptions;
  readonly #tracks = new Map<string, Track>();
  /** Containers with history this run cannot rebuild: no keyframes for them. */
  readonly #skip = new Set<string>();
  #maxTime = 0;
  #count = 0;
  readonly #withdrawStored: WithdrawStored | undefined;
  readonly stats = { keyframes: 0, withdrawn: 0, late: 0 };

  constructor(opts: Partial<KeyframeOptions> = {}, resumed: Iterable<ContainerState> = [], skip: Iterable<string> = [], withdrawStored?: WithdrawStored) {
    this.#opts = { ...KEYFRAME_DEFAULTS, ...opts };
    for (const s of resumed) this.#tracks.set(s.container, { ...this.#track(s.container, s), resumedAt: { time: s.time, seq: s.seq } });
    for (const id of skip) this.#skip.add(id);
    this.#withdrawStored = withdrawStored;
  }

  #track(id: string, state?: ContainerState): Track {
    const buf = new ReorderBuffer();
    const t = state?.time ?? 0;
    buf.releasedTime = t;
    buf.releasedSeq = state?.seq ?? 0;
    const base = state && state.events > 0 ? encodeKeyframe(state) : undefined;
    return { id, cid: cidBytes(id), base, buf, maxTime: t, lastKfTime: t, written: [] };
  }

  readonly observe: Observer = (ev, out, value) => {
    if (ev.container === '') return;
    if (this.#skip.has(ev.container)) {
      if (ev.kind === 'lifecycle' && ev.action === 'destroy' && ev.type === 'container') this.#skip.delete(ev.container);
      return;
    }
    let t = this.#tracks.get(ev.container);
    if (!t) this.#tracks.set(ev.container, (t = this.#track(ev.container)));
    if (before(ev, t.buf.releasedTime, t.buf.releasedSeq)) return this.#late(t, ev, out);
    t.buf.push(ev.time, ev.seq, value, ev.kind === 'lifecycle' && ev.action === 'destroy' && ev.type === 'container');
    if (ev.time > t.maxTime) t.maxTime = ev.time;
    if (ev.time > this.#maxTime) this.#maxTime = ev.time;
    this.#release(t, t.maxTime - this.#opts.latenessMicros, out);
    if (++this.#count % SWEEP === 0) {
      const wm = this.#maxTime - this.#opts.latenessMicros;
      for (const other of this.#tracks.values()) if (other !== t && other.buf.waiting > 0) this.#release(other, wm, out);
    }
  };

  #release(t: Track, watermark: number, out: KVEntry[]): void {
    const { buf } = t;
    while (buf.waiting > 0 && buf.firstWaitingTime() <= watermark) {
      const end = buf.release();
      if (end || buf.released >= this.#opts.everyEvents || buf.releasedTime - t.lastKfTime >= this.#opts.everyMicros) this.#write(t, out);
      if (end) {
        this.#tracks.delete(t.id);
        return;
      }
    }
  }

  #write(t: Track, out: KVEntry[]): void {
    if (t.buf.released === 0) return;
    const state = t.base ? decodeKeyframe(t.base) : emptyState(t.id);
    t.buf.drain(t.id, (ev) => applyEvent(state, ev), (time, seq) => applyPosition(state, time, seq), STATE_LIMITS.logs);
    // A buffer of its own (formats/keyframe.ts), kept as the next base and stored.
    t.base = encodeKeyframe(state);
    out.push([timeKey(P_KEYFRAME, t.cid, state.time, state.seq), t.base]);
    this.stats.keyframes++;
    t.lastKfTime = state.time;
    t.written.push({ time: state.time, seq: state.seq });
    if (t.written.length > REMEMBER) t.written.shift();
  }

  #late(t: Track, ev: DashEvent, out: KVEntry[]): void {
    this.stats.late++;
    for (const k of t.written) {
      if (before(ev, k.time, k.seq)) {
        out.push([timeKey(P_KEYFRAME, t.cid, k.time, k.seq), withdrawnKeyframe()]);
        this.stats.withdrawn++;
      }
    }
    // Keyframes of earlier runs after it are only on disk: withdrawn from there.
    if (t.resumedAt && before(ev, t.resumedAt.time, t.resumedAt.seq)) this.#withdrawStored?.(t.id, { time: ev.time, seq: ev.seq }, t.resumedAt);
    this.#tracks.delete(ev.container);
    this.#skip.add(ev.container);
  }

  /**
   * Releases the buffers of quiet containers by the wall clock (a pipeline sweeper): without it,
   * the last events of a container that went silent (its destroy, which drops its track) would
   * wait for some other container's events to move the watermark.
   */
  readonly sweep = (out: KVEntry[], now: number): void => {
    const wm = now - this.#opts.latenessMicros;
    for (const t of [...this.#tracks.values()]) if (t.buf.waiting > 0) this.#release(t, wm, out);
  };

  /** Per-container state held (for the leak test). */
  footprint(): Record<string, number> {
    return { keyframeTracks: this.#tracks.size, keyframeSkip: this.#skip.size };
  }
}

/** Withdrawal markers for the stored keyframes of `id` in (after, upTo]. */
export async function storedWithdrawals(kv: KVReader, id: string, after: Position, upTo: Position): Promise<KVEntry[]> {
  const cid = cidBytes(id);
  const out: KVEntry[] = [];
  for await (const chunk of kv.chunks({ gte: keyAfter(P_KEYFRAME, cid, after), lt: keyAfter(P_KEYFRAME, cid, upTo) })) {
    for (const [k] of chunk) out.push([k, withdrawnKeyframe()]);
  }
  return out;
}

/**
 * A writer resuming after a restart: containers still present get their state rebuilt from the
 * store (last keyframe + tail); containers with history we do not rebuild are skipped. An event
 * that arrives older than a container's last stored one withdraws the stored keyframes after it
 * too, through `pipeline` (found by a read, so in a later batch).
 */
export async function openKeyframeWriter(kv: KVReader, known: Iterable<ContainerRecord>, opts: Partial<KeyframeOptions> = {}, pipeline?: Pipeline): Promise<KeyframeWriter> {
  const resumed: ContainerState[] = [];
  const skip: string[] = [];
  for (const r of known) {
    if (r.removed || r.state === 'removed') skip.push(r.id);
    else resumed.push((await loadState(kv, r.id, atTime(Number.MAX_SAFE_INTEGER - 1))).state);
  }
  const withdraw: WithdrawStored | undefined = pipeline && ((id, after, upTo) => pipeline.putLater(`withdrawing keyframes of ${id.slice(0, 12)}`, storedWithdrawals(kv, id, after, upTo)));
  return new KeyframeWriter(opts, resumed, skip, withdraw);
}
