/**
 * A retention pass over a large store while the pipeline keeps ingesting: the budget is an
 * ingestion batch p99 under 100 ms during the pass (retention must never block ingestion).
 *
 *   node dist/bench/retention.js [events=10000000] [ingestRate=20000]
 *
 * The store is filled directly (batches of 10,000 across 8 containers, times spread over the last
 * 48 h, so a 24 h retention deletes about half), then a Pipeline ingests at a steady rate while
 * one pass (age cut, deletes in small batches, compaction of the deleted ranges) runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStore } from '../formats/level-store.js';
import type { KVWriter } from '../formats/kv.js';
import { cidBytes, containerKey } from '../formats/keys.js';
import { encodeBatch, type ContainerEvent } from '../formats/event-block.js';
import { encodeValue, pack } from '../formats/codec.js';
import type { DashEvent } from '../formats/schema.js';
import { nowMicros } from '../formats/time.js';
import { Pipeline } from '../recorder/pipeline.js';
import { createLogger } from '../recorder/logger.js';
import { Retention, RETENTION_DEFAULTS } from '../recorder/retention.js';
import { storeBytes } from '../recorder/retention-store.js';
import { formatBytes } from '../formats/units.js';
import { BENCH_CONTAINERS, mixedEvents } from './synthetic.js';
import { appendResult } from './report.js';

const quiet = createLogger({ quiet: true, write: () => {} });
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0;
};

/** The pipeline's store with every write timed: one write = one ingestion batch. */
function timed(kv: KVWriter, out: number[]): KVWriter {
  return new Proxy(kv, {
    get(target, prop, recv) {
      if (prop === 'write') {
        return async (puts: Parameters<KVWriter['write']>[0], dels?: Parameters<KVWriter['write']>[1]) => {
          const t0 = performance.now();
          await target.write(puts, dels);
          out.push(performance.now() - t0);
        };
      }
      const v = Reflect.get(target, prop, recv) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function fill(kv: KVWriter, n: number, now: number): Promise<number> {
  const span = 48 * 3600e6;
  const step = Math.max(1, Math.floor(span / n));
  let seq = 0;
  let batch: ContainerEvent[] = [];
  const t0 = performance.now();
  await kv.write(BENCH_CONTAINERS.map((id, i) => [containerKey(id), pack({ id, name: `bench-${i}`, names: [`bench-${i}`], image: 'bench', firstSeen: now - span, lastSeen: now, state: 'running', events: 0, bytes: 0 })]));
  for (const e of mixedEvents(n, now - span, step)) {
    const ev = { ...e, seq: ++seq } as DashEvent;
    batch.push({ container: ev.container, time: ev.time, seq: ev.seq, value: encodeValue(ev) });
    if (batch.length === 10_000) {
      await kv.write(encodeBatch(batch, cidBytes));
      batch = [];
      if (seq % 1_000_000 === 0) process.stderr.write(`  filled ${seq / 1e6}M events (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
  }
  if (batch.length) await kv.write(encodeBatch(batch, cidBytes));
  return seq;
}

/** Emits events at `rate` per second until stopped; the pipeline batches them as in the recorder. */
function ingest(p: Pipeline, rate: number): { stop(): Promise<number> } {
  let stopped = false;
  let n = 0;
  const gen = mixedEvents(1e9, nowMicros(), 1, 7);
  const tick = 10;
  const timer = setInterval(() => {
    for (let i = 0; i < (rate * tick) / 1000 && !stopped; i++) {
      const e = gen.next().value!;
      p.emit({ ...e, time: nowMicros() });
      n++;
    }
  }, tick);
  return { async stop() { stopped = true; clearInterval(timer); await p.flush(); return n; } };
}

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 10_000_000);
  const rate = Number(process.argv[3] ?? 20_000);
  const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-retention-'));
  const kv = await openLevelStore(dir, { create: true });
  const now = nowMicros();
  const tf = performance.now();
  const filled = await fill(kv, events, now);
  const fillSecs = (performance.now() - tf) / 1000;
  await kv.compact(Buffer.from([0]), Buffer.from([0xff]));
  const sizeFilled = await storeBytes(dir);

  const lat: number[] = [];
  const p = await Pipeline.open(timed(kv, lat), { flushMs: 100 }, quiet, filled);
  // Baseline: ingestion alone for 10 s.
  let run = ingest(p, rate);
  await new Promise((r) => setTimeout(r, 10_000));
  await run.stop();
  const base = lat.splice(0);
  // The pass, with ingestion going on.
  run = ingest(p, rate);
  const retention = new Retention(kv, { ...RETENTION_DEFAULTS, retain: 24 * 3600e6 }, quiet);
  const report = await retention.pass();
  const ingested = await run.stop();
  const during = lat.splice(0);
  await p.close();
  await kv.close();
  await rm(dir, { recursive: true, force: true });

  const p99 = pct(during, 99);
  appendResult(`Retention pass while ingesting (${(filled / 1e6).toFixed(1)}M-event store, ${rate} events/s ingest)`, [
    { what: 'ingestion batch p99 during the pass', budget: '< 100 ms', measured: `${p99.toFixed(1)} ms (p50 ${pct(during, 50).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms, ${during.length} batches)`, met: p99 < 100 },
    { what: 'ingestion batch p99 without a pass (baseline)', budget: '-', measured: `${pct(base, 99).toFixed(1)} ms (${base.length} batches)`, met: undefined },
    { what: 'pass duration (age cut + compaction)', budget: '-', measured: `${(report.ms / 1000).toFixed(1)} s, ${report.deletedEvents} events deleted, ${ingested} ingested meanwhile`, met: undefined },
    { what: 'store size before / after', budget: '-', measured: `${formatBytes(sizeFilled)} -> ${formatBytes(report.sizeAfter)}`, met: undefined },
    { what: 'fill time (direct batched writes)', budget: '-', measured: `${fillSecs.toFixed(0)} s for ${filled} events`, met: undefined },
  ]);
}

await main();
