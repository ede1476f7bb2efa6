/**
 * Replay speed on one container with 1,000,000 stored events (written by the real pipeline with
 * the keyframe writer): the first screen (open, cursor, timeline, event list, panes rendered as
 * lines), any seek with its redraw (keyframe + tail), and `replay --format json` throughput.
 * Budgets (issue 4 / 7): first screen < 300 ms, seek < 50 ms, JSON >= 500,000 events/s.
 *
 *   node dist/bench/replay-seek.js [events]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openLevelStore } from '../formats/level-store.js';
import { P_EVENT, timeRange } from '../formats/keys.js';
import { entryCount } from '../formats/event-block.js';
import { Pipeline } from '../recorder/pipeline.js';
import { createLogger } from '../recorder/logger.js';
import { KEYFRAME_DEFAULTS, KeyframeWriter } from '../recorder/keyframes.js';
import type { NewEvent } from '../formats/schema.js';
import { openStoreForReading } from '../replay/open-store.js';
import { resolveTarget } from '../replay/replay-target.js';
import { Cursor } from '../replay/cursor.js';
import { buildTimeline } from '../replay/timeline.js';
import { replayCommand } from '../replay/replay-command.js';
import { computeLayout } from '../tui/layout.js';
import { eventRow } from '../tui/render-event.js';
import { connLines, fileLines, logLines, procTreeLines } from '../tui/render-state.js';
import { headerLines, timelineRows } from '../tui/render-header.js';
import { statsLines } from '../tui/sparkline.js';
import { Activity, logLine, rng } from './synthetic.js';
import { appendResult, median } from './report.js';

const COUNT = Number(process.argv[2] ?? 1_000_000);
const CID = 'c0ffee'.repeat(11).slice(0, 64);
const START = 1_750_000_000_000_000;
const quiet = createLogger({ quiet: true, write: () => {} });

function* events(n: number): Generator<NewEvent> {
  const r = rng(9);
  const activity = new Activity();
  yield { kind: 'lifecycle', source: 'docker', container: CID, time: START, type: 'container', action: 'start', attributes: { name: 'bench-replay', image: 'bench:1' } };
  for (let i = 1; i < n; i++) {
    const time = START + i * 100; // 10,000 events/s for 100 s
    const x = r();
    if (x < 0.15) yield { kind: 'log', source: 'docker', container: CID, time, stream: 'stdout', line: Buffer.from(logLine(r, i)) };
    else if (x < 0.151) yield { kind: 'stats', source: 'docker', container: CID, time, cpuPercent: r() * 100, memUsage: Math.floor(r() * 1e9), memLimit: 2 ** 31, pids: 12 };
    else yield activity.event(r, CID, time, i);
  }
}

async function generate(dir: string): Promise<{ ms: number; keyframes: number }> {
  const kv = await openLevelStore(dir, { create: true });
  const p = await Pipeline.open(kv, { flushMs: 20 }, quiet, 0);
  const kf = new KeyframeWriter();
  p.addObserver(kf.observe);
  const t0 = performance.now();
  let i = 0;
  for (const ev of events(COUNT)) {
    p.emit(ev);
    if ((++i & 4095) === 0) await p.flush();
  }
  await p.close();
  await kv.close();
  return { ms: performance.now() - t0, keyframes: kf.stats.keyframes };
}

/** Everything the TUI computes for one frame at 80x24, minus the terminal writes. */
async function frame(cursor: Cursor, timeline: Awaited<ReturnType<typeof buildTimeline>>): Promise<number> {
  const L = computeLayout(80, 24);
  const rows = L.events.height - 1;
  const [around, logs] = await Promise.all([cursor.around(4, rows), cursor.around(0, L.logs.height, (e) => e.kind === 'log', 5_000)]);
  const st = cursor.states[0]!;
  const lines = [
    ...headerLines({ record: cursor.records[0]!, state: st, count: 1, time: cursor.pos.time, speed: 1, playing: false, follow: false }),
    ...timelineRows(timeline, cursor.pos.time, 80).map((text) => ({ text })),
    ...[...around.before, ...around.after].map((e) => eventRow(e)),
    ...procTreeLines(st), ...connLines(st), ...fileLines(st), ...logLines(st, logs.after, L.logs.height - 1), ...statsLines(st.stats, 30),
  ];
  return lines.length;
}

async function firstScreen(dir: string): Promise<number> {
  const t0 = performance.now();
  const { kv } = await openStoreForReading(dir);
  const target = await resolveTarget(kv, { container: ['bench-replay'] });
  const cursor = await Cursor.open(kv, target.records);
  await cursor.next();
  const timeline = await buildTimeline(kv, cursor.records, cursor.start, cursor.end, 80);
  await frame(cursor, timeline);
  const ms = performance.now() - t0;
  await kv.close();
  return ms;
}

const sink = (): Writable => new Writable({ write(_c, _e, cb) { cb(); } });

/** The floor under `--format json`: the same entries read through the store's reader (read-ahead
 * included), neither decoded nor formatted. Events (counted from block headers) and entries per second. */
async function readOnly(dir: string): Promise<{ events: number; entries: number }> {
  const { kv } = await openStoreForReading(dir);
  try {
    const t0 = performance.now();
    let events = 0;
    let entries = 0;
    for await (const chunk of kv.chunks(timeRange(P_EVENT, CID))) {
      entries += chunk.length;
      for (const [, v] of chunk) events += entryCount(v);
    }
    const s = (performance.now() - t0) / 1000;
    return { events: events / s, entries: entries / s };
  } finally {
    await kv.close();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-replay-'));
  try {
    const gen = await generate(dir);
    process.stdout.write(`generated ${COUNT} events in ${(gen.ms / 1000).toFixed(1)} s (${gen.keyframes} keyframes)\n`);
    const firsts: number[] = [];
    for (let i = 0; i < 7; i++) firsts.push(await firstScreen(dir));

    const { kv } = await openStoreForReading(dir);
    const target = await resolveTarget(kv, { container: ['bench-replay'] });
    const cursor = await Cursor.open(kv, target.records);
    const timeline = await buildTimeline(kv, cursor.records, cursor.start, cursor.end, 80);
    const r = rng(77);
    const seeks: number[] = [];
    const tails: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = cursor.start + Math.floor(r() * (cursor.end - cursor.start));
      const t0 = performance.now();
      await cursor.seekTime(t);
      await frame(cursor, timeline);
      seeks.push(performance.now() - t0);
      tails.push(cursor.lastSeekMs);
    }
    await kv.close();

    const rates: number[] = [];
    const perCpu: number[] = [];
    const reads: { events: number; entries: number }[] = [];
    for (let i = 0; i < 3; i++) {
      reads.push(await readOnly(dir));
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const n = await replayCommand({ store: dir, container: ['bench-replay'], format: 'json' }, sink());
      rates.push(n / ((performance.now() - t0) / 1000));
      const c = process.cpuUsage(c0);
      perCpu.push(n / ((c.user + c.system) / 1e6));
    }
    const fs = median(firsts);
    const sk = median(seeks);
    const p95 = [...seeks].sort((a, b) => a - b)[Math.floor(seeks.length * 0.95)]!;
    const jr = median(rates);
    appendResult(`replay: 1 container, ${COUNT.toLocaleString('en')} events (bench/replay-seek.ts)`, [
      { what: 'first screen (open, cursor, timeline, 80x24 frame), median of 7', budget: '< 300 ms', measured: `${fs.toFixed(1)} ms`, met: fs < 300 },
      { what: 'seek + redraw at a random time, median of 100', budget: '< 50 ms', measured: `${sk.toFixed(1)} ms (p95 ${p95.toFixed(1)} ms; state load alone ${median(tails).toFixed(1)} ms)`, met: sk < 50 },
      { what: '`replay --format json` throughput, median of 3', budget: '>= 500,000 events/s', measured: `${Math.round(jr).toLocaleString('en')} events/s (${Math.round(median(perCpu)).toLocaleString('en')} per CPU-second, all threads)`, met: jr >= 500_000 },
      { what: 'baseline: reading the same entries from LevelDB, no decoding or formatting, same run', budget: 'n/a (reference)', measured: `${Math.round(median(reads.map((x) => x.events))).toLocaleString('en')} events/s (${Math.round(median(reads.map((x) => x.entries))).toLocaleString('en')} entries/s)`, met: undefined },
    ], `Keyframes every ${KEYFRAME_DEFAULTS.everyEvents.toLocaleString('en')} events or 10 s per container (${gen.keyframes} in this store); a seek reads one keyframe and at most ~${KEYFRAME_DEFAULTS.everyEvents.toLocaleString('en')} events. Load average at the end of the run: ${loadavg().map((x) => x.toFixed(1)).join(', ')} (on ${cpus().length} cores; other work on the machine slows every figure).`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
