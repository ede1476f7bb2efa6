/**
 * Pipeline ingest on one core: parse a source record, stamp, encode, batch, write to LevelDB,
 * against the naive baseline (JSON per event, one awaited put per event), side by side in one run.
 * Also the bytes on disk per event after compaction (kernel-activity mix) and for logs.
 *
 *   node dist/bench/ingest.js [events]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { openLevelStore } from '../formats/level-store.js';
import { Pipeline } from '../recorder/pipeline.js';
import { createLogger } from '../recorder/logger.js';
import { P_EVENT, cidBytes, timeKey } from '../formats/keys.js';
import type { NewEvent } from '../formats/schema.js';
import { BENCH_CONTAINERS, Activity, logLine, mixedEvents, rng } from './synthetic.js';
import { appendResult, median } from './report.js';
import { dirSize } from './dir-size.js';

const quiet = createLogger({ quiet: true, write: () => {} });

/** Source records as a source hands them over: one JSON text per event. */
function sourceRecords(events: Iterable<NewEvent>): string[] {
  const out: string[] = [];
  for (const e of events) out.push(JSON.stringify(e, (_k, v: unknown) => (v instanceof Uint8Array || (v as { type?: string })?.type === 'Buffer' ? Buffer.from(v as Uint8Array).toString('latin1') : v)));
  return out;
}
function parse(rec: string): NewEvent {
  const ev = JSON.parse(rec) as NewEvent & { line?: unknown };
  if (ev.kind === 'log') ev.line = Buffer.from(ev.line as unknown as string, 'latin1');
  return ev;
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'dashcam-bench-'));
}

async function runPipeline(records: string[]): Promise<{ rate: number; dir: string }> {
  const dir = await tempDir();
  const kv = await openLevelStore(dir, { create: true });
  const p = await Pipeline.open(kv, { flushMs: 20 }, quiet, 0);
  const t0 = performance.now();
  for (let i = 0; i < records.length; i++) {
    p.emit(parse(records[i]!));
    // A source hands over events in bursts and yields to the loop between them.
    if ((i & 4095) === 4095) await new Promise<void>((r) => setImmediate(r));
  }
  await p.flush();
  const secs = (performance.now() - t0) / 1000;
  await p.close();
  await kv.close();
  return { rate: records.length / secs, dir };
}

async function runNaive(records: string[]): Promise<number> {
  const dir = await tempDir();
  const db = new ClassicLevel<Buffer, string>(dir, { keyEncoding: 'buffer', valueEncoding: 'utf8' });
  await db.open();
  let seq = 0;
  const t0 = performance.now();
  for (const rec of records) {
    const ev = JSON.parse(rec) as NewEvent & { time: number };
    await db.put(Buffer.from(timeKey(P_EVENT, cidBytes(ev.container), ev.time, ++seq)), JSON.stringify({ ...ev, seq }));
  }
  const secs = (performance.now() - t0) / 1000;
  await db.close();
  await rm(dir, { recursive: true, force: true });
  return records.length / secs;
}

/** Bytes on disk per event once LevelDB has compacted everything. */
async function bytesOnDisk(events: Iterable<NewEvent>): Promise<{ bytes: number; events: number }> {
  const dir = await tempDir();
  const kv = await openLevelStore(dir, { create: true });
  const p = await Pipeline.open(kv, {}, quiet, 0);
  let n = 0;
  for (const e of events) {
    p.emit(e);
    if ((++n & 4095) === 0) await new Promise<void>((r) => setImmediate(r));
  }
  await p.close();
  await kv.compact(new Uint8Array([0]), new Uint8Array([0xff]));
  await kv.close();
  const bytes = await dirSize(dir);
  await rm(dir, { recursive: true, force: true });
  return { bytes, events: n };
}

const RUNS = 7;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 300_000);
  const records = sourceRecords(mixedEvents(n, Date.now() * 1000));
  const naiveRecords = records.slice(0, Math.min(n, 50_000));
  const fast: number[] = [];
  const naive: number[] = [];
  // Seven alternating runs: on this shared machine one run's rate moved by half between minutes.
  for (let run = 0; run < RUNS; run++) {
    const r = await runPipeline(records);
    await rm(r.dir, { recursive: true, force: true });
    fast.push(r.rate);
    naive.push(await runNaive(naiveRecords));
  }
  const f = median(fast);
  const b = median(naive);

  const r = rng(7);
  const start = Date.now() * 1000;
  const activityCount = 500_000;
  const activity = function* (): Generator<NewEvent> {
    const a = new Activity();
    for (let i = 0; i < activityCount; i++) yield a.event(r, BENCH_CONTAINERS[i % 8]!, start + i * 50, i);
  };
  const act = await bytesOnDisk(activity());
  let rawLog = 0;
  const logs = function* (): Generator<NewEvent> {
    for (let i = 0; i < activityCount; i++) {
      const line = Buffer.from(logLine(r, i));
      rawLog += line.length + 1;
      yield { kind: 'log', source: 'docker', container: BENCH_CONTAINERS[i % 8]!, time: start + i * 20, stream: 'stdout', line, engineTime: start + i * 20 };
    }
  };
  const lg = await bytesOnDisk(logs());

  appendResult('ingest (bench/ingest.ts)', [
    { what: `pipeline ingest, one core (${n.toLocaleString('en')} events, median of ${RUNS})`, budget: '≥ 300,000 events/s', measured: `${Math.round(f).toLocaleString('en')} events/s (runs: ${fast.map((x) => Math.round(x / 1000)).join(', ')} thousand)`, met: f >= 300_000 },
    { what: 'vs naive baseline (JSON per event, one put per event), same run', budget: '≥ 5x', measured: `${(f / b).toFixed(1)}x (naive ${Math.round(b).toLocaleString('en')} events/s)`, met: f / b >= 5 },
    { what: `bytes on disk per event, exec/exit/fork/file/net mix (${activityCount.toLocaleString('en')}), after compaction`, budget: '≤ 40 B', measured: `${(act.bytes / act.events).toFixed(1)} B`, met: act.bytes / act.events <= 40 },
    { what: 'bytes on disk for logs, of raw log bytes', budget: '≤ 60%', measured: `${((100 * lg.bytes) / rawLog).toFixed(0)}%`, met: lg.bytes / rawLog <= 0.6 },
  ]);
}

await main();
