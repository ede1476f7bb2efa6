/**
 * The process bench/memory.ts measures: the whole recorder (recorder/record.ts: store, pipeline,
 * keyframe writer, incident engine, retention timer, query socket) with no capture source, fed
 * synthetic events (bench/synthetic.ts, the mix of kinds and sizes of real recordings) paced at a
 * fixed rate, as a busy eBPF source would hand them over. Events are generated lazily, so the
 * generator holds no backlog that would count as the recorder's memory.
 *
 * Prints one JSON line when pacing starts ({"phase":"start"}), one per second with the events
 * emitted and written so far, and one at the end with the totals.
 *
 *   node dist/bench/memory-child.js <store> <events/s> <seconds> [keyframe-every=the recorder's default]
 *
 * keyframe-every 0 runs the recorder without its keyframe writer (the baseline bench/memory.ts
 * sets beside the full recorder).
 */
import { record } from '../recorder/record.js';
import { createLogger } from '../recorder/logger.js';
import { mixedEvents } from './synthetic.js';

const [store, rateArg, secsArg, kfArg] = process.argv.slice(2);
if (!store) throw new Error('usage: memory-child.js <store> <events/s> <seconds> [keyframe-every]');
const rate = Number(rateArg ?? 50_000);
const secs = Number(secsArg ?? 60);
const say = (o: Record<string, unknown>): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);

const rec = await record({ store, sources: [], handleSignals: false, ...(kfArg !== undefined ? { keyframeEvery: Number(kfArg) } : {}) }, createLogger({ quiet: true }));
const total = rate * secs;
// Event times follow the wall clock at the paced rate, as live events would.
const events = mixedEvents(total, Date.now() * 1000, 1e6 / rate);
let emitted = 0;
let behind = 0;
const t0 = performance.now();
say({ phase: 'start' });

await new Promise<void>((resolve) => {
  let lastReport = 0;
  const tick = (): void => {
    const elapsed = (performance.now() - t0) / 1000;
    const due = Math.min(total, Math.floor(rate * elapsed));
    // A tick that finds more than a second's worth due means we could not keep the pace.
    if (due - emitted > rate) behind++;
    while (emitted < due) {
      const r = events.next();
      if (r.done) break;
      rec.pipeline.emit(r.value);
      emitted++;
    }
    if (elapsed - lastReport >= 1) {
      lastReport = Math.floor(elapsed);
      const m = process.memoryUsage();
      const mb = (n: number): number => Math.round(n / 2 ** 20);
      say({ phase: 'run', t: lastReport, emitted, written: rec.pipeline.stats.written, rssMB: mb(m.rss), heapTotalMB: mb(m.heapTotal), heapMB: mb(m.heapUsed), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers) });
    }
    if (emitted >= total) resolve();
    else setTimeout(tick, 5);
  };
  tick();
});

const paceSecs = (performance.now() - t0) / 1000;
await rec.pipeline.flush();
say({ phase: 'end', emitted, written: rec.pipeline.stats.written, lost: rec.pipeline.stats.lost, behindTicks: behind, paceSecs });
await rec.stop();
