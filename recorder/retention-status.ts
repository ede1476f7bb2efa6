/**
 * `dashcam status`: sources and their health, events per second, lost events, store size, the
 * horizon (oldest retained event), pinned windows and their bytes. From the running recorder, or,
 * without one, from what the store itself says.
 */
import type { KVReader } from '../formats/kv.js';
import type { RunRecord, StatusReport } from '../formats/records.js';
import { P_META, prefixRange, timeRange, P_EVENT } from '../formats/keys.js';
import { kindNum, unpack } from '../formats/codec.js';
import { decodeRaw, scanEvents } from '../formats/event-scan.js';
import { importPins, listContainers, listImports, listIncidents } from '../formats/queries.js';
import { nowMicros } from '../formats/time.js';
import type { SourceHealth } from './source.js';
import type { Retention } from './retention.js';
import { activePins } from './retention-plan.js';

const GAP_NUM = kindNum('gap');
import { firstEventTime, storeBytes, windowBytes } from './retention-store.js';

/** Events per second over the last ~10 s, sampled in the background (costs one timer). */
export class RateMeter {
  readonly #samples: [ms: number, n: number][] = [];
  #timer: NodeJS.Timeout | undefined;

  start(read: () => number): void {
    this.#samples.push([Date.now(), read()]);
    this.#timer = setInterval(() => {
      this.#samples.push([Date.now(), read()]);
      if (this.#samples.length > 6) this.#samples.shift();
    }, 2000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  rate(current: number): number {
    const first = this.#samples[0];
    if (!first) return 0;
    const secs = (Date.now() - first[0]) / 1000;
    return secs > 0.05 ? Math.round(((current - first[1]) / secs) * 10) / 10 : 0;
  }
}

export interface LiveStatusInput {
  kv: KVReader;
  store: string;
  run: RunRecord;
  sources: SourceHealth[];
  pipelineLost: number;
  eventsPerSecond: number;
  retention: Retention;
}

async function counts(kv: KVReader): Promise<{ containers: string[]; incidents: number; imports: { bundles: number; events: number } }> {
  const containers = (await listContainers(kv)).map((r) => r.id);
  // The bundles whose events retention keeps (imported, and not past their --retain).
  const now = nowMicros();
  const kept = (await listImports(kv)).filter((r) => importPins([r], now).length > 0);
  return { containers, incidents: (await listIncidents(kv)).length, imports: { bundles: kept.length, events: kept.reduce((n, r) => n + r.events, 0) } };
}

export async function liveStatus(i: LiveStatusInput): Promise<StatusReport> {
  const { containers, incidents, imports } = await counts(i.kv);
  const o = i.retention.options;
  const pinned = await i.retention.pinnedNow();
  return {
    recorder: 'running', store: i.store, run: i.run,
    sources: i.sources.map((s) => ({ ...s })),
    eventsPerSecond: i.eventsPerSecond,
    lostEvents: i.pipelineLost + i.sources.reduce((n, s) => n + s.lost, 0),
    storeBytes: await storeBytes(i.store),
    horizon: await i.retention.horizon(['', ...containers]),
    containers: containers.length, incidents,
    pinnedWindows: pinned.windows, pinnedBytes: pinned.bytes, imports,
    retention: { retain: o.retain, maxSize: o.maxSize, pinRetain: o.pinRetain, pinMax: i.retention.pinMax, importMax: i.retention.importMax, ...(i.retention.lastPass ? { lastPass: i.retention.lastPass } : {}) },
  };
}

/** Without a recorder: the last run, size, horizon, pins, and the loss the store recorded as gaps. */
export async function storeStatus(kv: KVReader, store: string): Promise<StatusReport> {
  const { containers, incidents, imports } = await counts(kv);
  let run: RunRecord | undefined;
  for await (const chunk of kv.chunks({ ...prefixRange(P_META, 'run/'), reverse: true, limit: 1 })) run = unpack<RunRecord>(chunk[0]![1], 'run record');
  let horizon: number | undefined;
  for (const c of ['', ...containers]) {
    const t = await firstEventTime(kv, c);
    if (t !== undefined && (horizon === undefined || t < horizon)) horizon = t;
  }
  let lost = 0;
  for await (const raws of scanEvents(kv, timeRange(P_EVENT, ''))) {
    for (const r of raws) {
      if (r.kindNum !== GAP_NUM) continue;
      const ev = decodeRaw(r);
      if (ev.kind === 'gap' && ev.lost) lost += ev.lost;
    }
  }
  const pins = activePins(await listIncidents(kv), nowMicros());
  let pinnedBytes = 0;
  for (const p of pins) pinnedBytes += await windowBytes(kv, p.container, { from: p.windowStart, to: p.windowEnd + 1 });
  return {
    recorder: 'not running', store, ...(run ? { run } : {}), sources: [], lostEvents: lost,
    storeBytes: await storeBytes(store), ...(horizon !== undefined ? { horizon } : {}),
    containers: containers.length, incidents, pinnedWindows: pins.length, pinnedBytes, imports,
  };
}
