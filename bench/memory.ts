/**
 * Recorder resident memory, steady, at 50,000 events/s. The recorder runs in its own process
 * (bench/memory-child.ts: the whole recorder fed synthetic events at a paced rate), so its RSS is
 * its own; this process samples /proc/<pid>/status every second. Steady = median of the last
 * 30 s of samples; the maximum over the whole run is reported too. Side by side in the same run,
 * the same recorder without its keyframe writer shows that writer's share. Rounds alternate the
 * two; the figure is the median of the rounds' steady values (one run moves by 10-40 MB with what
 * LevelDB compacts when and how far V8 lets the heap grow).
 *
 *   node dist/bench/memory.js [events/s=50000] [seconds=45] [rounds=3]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KeyframeWriter } from '../recorder/keyframes.js';
import { encodeValue } from '../formats/codec.js';
import type { KVEntry } from '../formats/kv.js';
import type { DashEvent } from '../formats/schema.js';
import { RECORD_DEFAULTS } from '../recorder/record-options.js';
import { appendResult, median } from './report.js';
import { cpuTimes, loadNote, rssBytes } from './proc-cpu.js';

const CHILD = fileURLToPath(new URL('./memory-child.js', import.meta.url));
const MB = 2 ** 20;

interface ChildEnd { emitted: number; written: number; lost: number; behindTicks: number; paceSecs: number }
interface Run { samples: number[]; end: ChildEnd; cpu: number; steady: number; max: number }

/** One recorder child at `rate` for `secs`, sampled every second while it is paced. */
async function runChild(rate: number, secs: number, keyframeEvery: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-mem-'));
  const samples: number[] = [];
  let end: ChildEnd | undefined;
  let cpu = 0;
  try {
    const child = spawn(process.execPath, [CHILD, join(dir, 'store'), String(rate), String(secs), String(keyframeEvery)], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Stopped (run-all's time limit): the child goes too, not on into the next scenario.
    const stop = (): void => {
      child.kill('SIGKILL');
      process.exit(1);
    };
    process.once('SIGTERM', stop);
    void once(child, 'exit').then(() => process.off('SIGTERM', stop));
    let timer: NodeJS.Timeout | undefined;
    const sample = (): void => {
      const r = rssBytes(child.pid!);
      if (r !== undefined) samples.push(r);
    };
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = JSON.parse(l) as { phase: string } & ChildEnd;
      if (m.phase === 'start') timer = setInterval(sample, 1000);
      if (m.phase === 'end') {
        clearInterval(timer);
        end = m;
        cpu = cpuTimes(child.pid!)?.self ?? 0;
      }
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearInterval(timer);
    if (code !== 0 || !end) throw new Error(`memory-child exited with ${code}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { samples, end, cpu, steady: median(samples.slice(-30)) / MB, max: Math.max(...samples) / MB };
}

const kept = (r: Run): boolean => r.end.written >= r.end.emitted && r.end.lost === 0;
const steadyOf = (rs: Run[]): number => median(rs.map((r) => r.steady));
const summary = (rs: Run[]): string => {
  const paced = Math.min(...rs.map((r) => r.end.emitted / r.end.paceSecs));
  const lost = rs.reduce((n, r) => n + r.end.lost, 0);
  return `${steadyOf(rs).toFixed(0)} MB (rounds: ${rs.map((r) => r.steady.toFixed(0)).join(', ')} MB; max ${Math.max(...rs.map((r) => r.max)).toFixed(0)} MB); paced at ${Math.round(paced).toLocaleString('en')} events/s or more, ${rs.every(kept) ? 'every event written' : `NOT every event written (${lost} lost)`}; ${median(rs.map((r) => r.cpu)).toFixed(1)} CPU-s (median)`;
};

/**
 * A host of `n` quiet containers: one event each, then the keyframe writer's sweep releases them.
 * Returns the buffer bytes (MiB) the writer still holds, with the keyframes it wrote let go.
 */
async function quietHost(n: number): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // The backing stores of dead buffers are freed after the collection, off the main thread.
  const settled = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    return process.memoryUsage().arrayBuffers;
  };
  const before = await settled();
  const w = new KeyframeWriter();
  let out: KVEntry[] = [];
  const t0 = Date.now() * 1000;
  for (let i = 0; i < n; i++) {
    const ev = { kind: 'exec', source: 'ebpf', container: i.toString(16).padStart(64, '0'), time: t0 + i, seq: i + 1, pid: 10, ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh', '-c', 'true'], cwd: '/', comm: 'sh' } as DashEvent;
    w.observe(ev, out, encodeValue(ev));
  }
  w.sweep(out, t0 + 30_000_000);
  out = [];
  const held = (await settled()) - before;
  if (w.footprint().keyframeTracks !== n) throw new Error('quiet host: tracks lost');
  return held / MB;
}

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 50_000);
  const secs = Number(process.argv[3] ?? 45);
  const rounds = Number(process.argv[4] ?? 3);
  const loads = [loadNote()];
  const full: Run[] = [];
  const bare: Run[] = [];
  for (let i = 0; i < rounds; i++) {
    full.push(await runChild(rate, secs, RECORD_DEFAULTS.keyframeEvery));
    bare.push(await runChild(rate, secs, 0));
  }
  loads.push(loadNote());
  const quiet = await quietHost(1000);
  // The samples of the round nearest the median.
  const mbs = (rs: Run[]): string => {
    const m = steadyOf(rs);
    const r = rs.reduce((a, b) => (Math.abs(b.steady - m) < Math.abs(a.steady - m) ? b : a));
    return r.samples.map((s) => Math.round(s / MB)).join(' ');
  };
  appendResult('recorder memory (bench/memory.ts)', [
    {
      what: `recorder resident memory, steady, at ${rate.toLocaleString('en')} events/s (${secs} s, median RSS of the last 30 s; median of ${rounds} rounds)`,
      budget: '≤ 150 MB',
      measured: summary(full),
      met: steadyOf(full) <= 150 && full.every(kept),
    },
    {
      what: 'baseline: the same recorder without its keyframe writer, same run',
      budget: 'n/a (reference)',
      measured: summary(bare),
      met: undefined,
    },
    {
      what: 'keyframe writer on a host of 1,000 quiet containers (one event each, then released): buffer memory it holds',
      budget: 'n/a (reference)',
      measured: `${quiet.toFixed(1)} MiB`,
      met: undefined,
    },
  ], `The whole recorder (store, pipeline, keyframe writer, incident engine, retention timer, query socket) in a child process with no capture source, fed bench/synthetic.ts events (kernel activity, logs, stats over 8 containers) paced in 5 ms ticks; CPU-s is the child's user + system time until pacing ends (all threads: GC, LevelDB). RSS samples (MB, 1 s apart) of the median round, full recorder: ${mbs(full)}; without keyframes: ${mbs(bare)}. Machine ${loads.join(' before, ')} after.`);
}

await main();
