/**
 * The keyframe writer's store side (recorder/keyframes.ts keeps none): the writer the recorder
 * runs, resumed from the store for containers still present after a restart, withdrawing stored
 * keyframes through the pipeline, and reading a container back when its events came too late.
 */
import type { KVEntry, KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import type { ContainerState } from '../formats/state.js';
import { P_EVENT, P_KEYFRAME, cidBytes, timeKey, timeRange } from '../formats/keys.js';
import { scanEvents } from '../formats/event-scan.js';
import { withdrawnKeyframe } from '../formats/keyframe.js';
import { atTime, findKeyframe, keyAfter, loadState, type Position } from '../formats/state-load.js';
import type { Pipeline } from './pipeline.js';
import { KeyframeWriter, type KeyframeOptions, type ResyncRead, type StoredValue, type WithdrawStored } from './keyframes.js';

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
 * The writer the recorder runs, resuming after a restart: containers still present get their
 * state rebuilt from the store (last keyframe + tail); containers with history we do not rebuild
 * are skipped. With `pipeline`, an event older than a container's last stored one withdraws the
 * stored keyframes after it too (found by a read, so in a later batch), and a container whose
 * events came too late is read back from the store (readBack).
 */
export async function openKeyframeWriter(kv: KVReader, known: Iterable<ContainerRecord>, opts: Partial<KeyframeOptions> = {}, pipeline?: Pipeline): Promise<KeyframeWriter> {
  const resumed: ContainerState[] = [];
  const skip: string[] = [];
  for (const r of known) {
    if (r.removed || r.state === 'removed') skip.push(r.id);
    else resumed.push((await loadState(kv, r.id, atTime(Number.MAX_SAFE_INTEGER - 1))).state);
  }
  const withdraw: WithdrawStored | undefined = pipeline && ((id, after, upTo) => pipeline.putLater(`withdrawing keyframes of ${id.slice(0, 12)}`, storedWithdrawals(kv, id, after, upTo)));
  return new KeyframeWriter(opts, resumed, skip, withdraw, pipeline && ((id, late) => readBack(kv, pipeline, id, late)));
}

/** A resync's read (ResyncReader): waits for the late event's batch, then reads from the keyframe before it. */
async function readBack(kv: KVReader, pipeline: Pipeline, id: string, late: Position): Promise<ResyncRead> {
  await pipeline.whenWritten(late.seq);
  const upTo = pipeline.writtenSeq;
  const keyframe = await findKeyframe(kv, id, { time: late.time, seq: late.seq - 1 });
  const cid = cidBytes(id);
  const events: StoredValue[] = [];
  const gte = keyframe ? keyAfter(P_EVENT, cid, keyframe.pos) : timeKey(P_EVENT, cid, 0, 0);
  for await (const chunk of scanEvents(kv, { gte, lt: timeRange(P_EVENT, id).lt })) {
    for (const e of chunk) if (e.seq <= upTo) events.push({ time: e.time, seq: e.seq, value: e.value() });
  }
  return { ...(keyframe ? { keyframe } : {}), events, upTo };
}
