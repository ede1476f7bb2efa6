/**
 * Recorder resident memory, steady, at 50,000 events/s. The recorder runs in its own process
 * (bench/memory-child.ts: the whole recorder fed synthetic events at a paced rate), so its RSS is
 * its own; this process samples /proc/<pid>/status every second. Steady = median of the last
 * 30 s of samples; the maximum over the whole run is reported too.
 *
 *   node dist/bench/memory.js [events/s=50000] [seconds=60]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { appendResult, median } from './report.js';
import { loadNote, rssBytes } from './proc-cpu.js';

const CHILD = fileURLToPath(new URL('./memory-child.js', import.meta.url));
const MB = 2 ** 20;

interface ChildEnd { emitted: number; written: number; lost: number; behindTicks: number; paceSecs: number }

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 50_000);
  const secs = Number(process.argv[3] ?? 60);
  const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-mem-'));
  const loads = [loadNote()];
  const samples: number[] = [];
  let end: ChildEnd | undefined;
  try {
    const child = spawn(process.execPath, [CHILD, join(dir, 'store'), String(rate), String(secs)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
      }
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearInterval(timer);
    if (code !== 0 || !end) throw new Error(`memory-child exited with ${code}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  loads.push(loadNote());
  const steady = median(samples.slice(-30)) / MB;
  const max = Math.max(...samples) / MB;
  const achieved = end.emitted / end.paceSecs;
  const kept = end.written >= end.emitted && end.lost === 0;
  appendResult('recorder memory (bench/memory.ts)', [
    {
      what: `recorder resident memory, steady, at ${rate.toLocaleString('en')} events/s (${secs} s, median RSS of the last 30 s)`,
      budget: '≤ 150 MB',
      measured: `${steady.toFixed(0)} MB (max ${max.toFixed(0)} MB); paced at ${Math.round(achieved).toLocaleString('en')} events/s, ${end.written.toLocaleString('en')} of ${end.emitted.toLocaleString('en')} written${end.lost ? `, ${end.lost} lost` : ''}`,
      met: steady <= 150 && kept,
    },
  ], `The whole recorder (store, pipeline, keyframe writer, incident engine, retention timer, query socket) in a child process with no capture source, fed bench/synthetic.ts events (kernel activity, logs, stats over 8 containers) paced in 5 ms ticks. RSS samples (MB, 1 s apart): ${samples.map((s) => Math.round(s / MB)).join(' ')}. Machine ${loads.join(' before, ')} after.`);
}

await main();
