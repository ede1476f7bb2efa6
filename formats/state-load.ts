/**
 * State of one container as of an event key, read from the store: the nearest usable keyframe at
 * or before the key (one short reverse range read), then only the events after it. Used by replay
 * (every seek) and by the recorder (to resume keyframing a container across a restart).
 */
import type { KVReader } from './kv.js';
import { P_EVENT, P_KEYFRAME, cidBytes, timeKey, timeOfKey, parseTimeKey } from './keys.js';
import { readEvents } from './event-scan.js';
import { decodeKeyframe, decodeKeyframeHeader } from './keyframe.js';
import { emptyState, type ContainerState } from './state.js';
import { applyEvent } from './state-apply.js';
import { FormatError } from './errors.js';

/** An inclusive position in one container's timeline: every event with key <= (time, seq). */
export interface Position { time: number; seq: number }
/** The position that includes every event at or before `time`. */
export const atTime = (time: number): Position => ({ time, seq: Number.MAX_SAFE_INTEGER });

export function keyAfter(prefix: number, cid: Uint8Array, p: Position): Buffer {
  return p.seq >= Number.MAX_SAFE_INTEGER ? timeKey(prefix, cid, p.time + 1, 0) : timeKey(prefix, cid, p.time, p.seq + 1);
}

export interface LoadedState {
  state: ContainerState;
  /** Key of the keyframe used, if any. */
  keyframe?: Position;
  /** Events applied on top of the keyframe (or from the start). */
  tail: number;
}

/** How many keyframes one reverse read looks at before giving up on finding a usable one. */
const KEYFRAME_PROBE = 4;

export async function findKeyframe(kv: KVReader, container: string, at: Position): Promise<{ pos: Position; state: ContainerState } | undefined> {
  const cid = cidBytes(container);
  const range = { gte: timeKey(P_KEYFRAME, cid, 0, 0), lt: keyAfter(P_KEYFRAME, cid, at), reverse: true };
  for (const limit of [KEYFRAME_PROBE, undefined]) {
    let seen = 0;
    for await (const chunk of kv.chunks({ ...range, ...(limit ? { limit } : {}) })) {
      for (const [k, v] of chunk) {
        seen++;
        // A keyframe is derived data: one that does not decode is skipped, and the state is
        // rebuilt from an older keyframe or from the events.
        let state: ContainerState | undefined;
        try {
          if (decodeKeyframeHeader(v).usable) state = decodeKeyframe(v);
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
        }
        if (!state) continue;
        const { time, seq } = parseTimeKey(k);
        return { pos: { time, seq }, state };
      }
    }
    if (limit !== undefined && seen < limit) return undefined; // nothing older to look at
  }
  return undefined;
}

export async function loadState(kv: KVReader, container: string, at: Position, opts: { keyframes?: boolean } = {}): Promise<LoadedState> {
  const kf = opts.keyframes === false ? undefined : await findKeyframe(kv, container, at);
  const state = kf?.state ?? emptyState(container);
  const cid = cidBytes(container);
  const gte = kf ? keyAfter(P_EVENT, cid, kf.pos) : timeKey(P_EVENT, cid, 0, 0);
  let tail = 0;
  for await (const evs of readEvents(kv, { gte, lt: keyAfter(P_EVENT, cid, at) })) {
    for (const ev of evs) applyEvent(state, ev);
    tail += evs.length;
  }
  return { state, ...(kf ? { keyframe: kf.pos } : {}), tail };
}

/** Times and cumulative event counts of a container's usable keyframes in [from, to): the timeline's sparse index. */
export async function keyframeIndex(kv: KVReader, container: string, from: number, to: number): Promise<{ time: number; events: number }[]> {
  const cid = cidBytes(container);
  const out: { time: number; events: number }[] = [];
  for await (const chunk of kv.chunks({ gte: timeKey(P_KEYFRAME, cid, from, 0), lt: timeKey(P_KEYFRAME, cid, to, 0) })) {
    for (const [k, v] of chunk) {
      const h = decodeKeyframeHeader(v);
      if (h.events >= 0) out.push({ time: timeOfKey(k), events: h.events });
    }
  }
  return out;
}
