/**
 * Recorder CPU while a container writes 100,000 log lines as fast as it can, against the engine's
 * own CPU for the same work (dockerd + the container's containerd shim), measured on both in one
 * phase; every line must be stored. Baseline in the same run: `docker logs -f` into a file, the
 * cost of the plainest log consumer, with the engine's CPU measured the same way.
 *
 * The container waits on a FIFO before it prints, so container start-up is outside the measured
 * interval, and sleeps afterwards, so its shim is still there to be read at the end.
 *
 *   node dist/bench/log-cpu.js [runs=3]
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, writeSync, constants as fsc } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStore } from '../formats/level-store.js';
import { eventChunks, getContainer } from '../formats/queries.js';
import { P_EVENT, timeRange } from '../formats/keys.js';
import { readEvents } from '../formats/event-scan.js';
import { SOCKET_NAME } from '../formats/frames.js';
import { RemoteKV } from '../replay/remote-kv.js';
import { appendResult, median } from './report.js';
import { CpuSnapshot, dockerdPid, loadNote, shimPid } from './proc-cpu.js';
import { RUN_LABEL, docker, ensureEngine, removeBenchContainers } from './engine-env.js';
import { startRecorderChild } from './recorder-child.js';

const LINES = 100_000;
const FMT = '%06d GET /api/v1/items?page=%d 200 %dms user=u%d request_id=%08x handler=list done\\n';
const AWK = `BEGIN{for(i=0;i<${LINES};i++) printf "${FMT}", i, i%50, i%900, i%1000, i*7919}`;
const LAST = Buffer.from(String(LINES - 1).padStart(6, '0'));

/** Bytes the container prints (the same format as AWK), to know when `docker logs -f` has all. */
function expectedBytes(): number {
  let n = 0;
  for (let i = 0; i < LINES; i++) n += `${String(i).padStart(6, '0')} GET /api/v1/items?page=${i % 50} 200 ${i % 900}ms user=u${i % 1000} request_id=${(i * 7919).toString(16).padStart(8, '0')} handler=list done\n`.length;
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A container that prints LINES lines once `go` is written to its FIFO, then idles. */
function startPrinter(image: string, dir: string, tag: string): { id: string; fifo: string } {
  const trig = join(dir, `trig-${tag}`);
  mkdirSync(trig);
  execFileSync('mkfifo', [join(trig, 'go')]);
  const id = docker(['run', '-d', '--label', RUN_LABEL, '--name', `dashcam-bench-logcpu-${process.pid}-${tag}`,
    '-v', `${trig}:/trigger`, image, 'sh', '-c', `read x < /trigger/go; awk '${AWK}'; exec sleep 600`]);
  return { id, fifo: join(trig, 'go') };
}

/** Opened read-write so the open never blocks; the container is already waiting on its end. */
function trigger(fifo: string): number {
  const fd = openSync(fifo, fsc.O_RDWR);
  writeSync(fd, 'go\n');
  return fd;
}

function enginePids(id: string): number[] {
  const d = dockerdPid();
  const s = shimPid(id);
  if (!d || !s) throw new Error(`cannot find the engine's processes (dockerd ${d}, shim ${s})`);
  return [d, s];
}

interface Phase { consumer: number; engine: number; secs: number; stored?: number }

async function recorderPhase(image: string, dir: string, run: number): Promise<Phase> {
  const store = join(dir, 'store');
  const rec = await startRecorderChild(store, 'docker');
  const remote = await RemoteKV.connect(join(store, SOCKET_NAME));
  const { id, fifo } = startPrinter(image, dir, `rec${run}`);
  let fd = -1;
  try {
    const engine = enginePids(id);
    await until('the recorder to see the container', async () => (await getContainer(remote, id)) !== undefined, 30_000);
    await sleep(300); // its log follower attaches right after
    const r0 = CpuSnapshot.take([rec.pid], true);
    const e0 = CpuSnapshot.take(engine);
    const t0 = performance.now();
    fd = trigger(fifo);
    await until('the recorder to store the last line', async () => {
      // The container record (one key, written with every batch) says when all lines may be in;
      // only then read the last lines. Reading them on every poll cost the recorder about 0.1 s
      // per run serving the bench (a reverse read looks SPAN_MAX back through the storm's blocks).
      if (((await getContainer(remote, id))?.events ?? 0) < LINES) return false;
      for await (const evs of readEvents(remote, { ...timeRange(P_EVENT, id), reverse: true, limit: 20 })) {
        for (const ev of evs) {
          if (ev.kind === 'log' && Buffer.from(ev.line.subarray(0, 6)).equals(LAST)) return true;
        }
      }
      return false;
    });
    const secs = (performance.now() - t0) / 1000;
    const consumer = CpuSnapshot.take([rec.pid], true).since(r0);
    const eng = CpuSnapshot.take(engine).since(e0);
    await remote.close();
    await rec.stop();
    const kv = await openLevelStore(store);
    let stored = 0;
    for await (const evs of eventChunks(kv, id)) for (const ev of evs) if (ev.kind === 'log') stored++;
    await kv.close();
    return { consumer, engine: eng, secs, stored };
  } finally {
    if (fd >= 0) closeSync(fd);
    await rec.stop();
    docker(['rm', '-f', id]);
  }
}

async function dockerLogsPhase(image: string, dir: string, run: number, expect: number): Promise<Phase> {
  const { id, fifo } = startPrinter(image, dir, `logs${run}`);
  const file = join(dir, `logs-${run}.txt`);
  const out = openSync(file, 'w');
  const cli = spawn('docker', ['logs', '-f', id], { stdio: ['ignore', out, 'inherit'] });
  closeSync(out);
  let fd = -1;
  try {
    const engine = enginePids(id);
    await sleep(500); // attached (nothing to read yet)
    const c0 = CpuSnapshot.take([cli.pid!], true);
    const e0 = CpuSnapshot.take(engine);
    const t0 = performance.now();
    fd = trigger(fifo);
    await until('docker logs -f to write every line', () => statSync(file).size >= expect);
    const secs = (performance.now() - t0) / 1000;
    return { consumer: CpuSnapshot.take([cli.pid!], true).since(c0), engine: CpuSnapshot.take(engine).since(e0), secs };
  } finally {
    if (fd >= 0) closeSync(fd);
    cli.kill('SIGKILL');
    docker(['rm', '-f', id]);
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const image = ensureEngine();
  const expect = expectedBytes();
  const rec: Phase[] = [];
  const base: Phase[] = [];
  const loads: string[] = [loadNote()];
  for (let run = 0; run < runs; run++) {
    const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-logcpu-'));
    try {
      const a = await recorderPhase(image, dir, run);
      const b = await dockerLogsPhase(image, dir, run, expect);
      rec.push(a);
      base.push(b);
      process.stderr.write(`run ${run + 1}: recorder ${a.consumer.toFixed(2)} s CPU vs engine ${a.engine.toFixed(2)} s (${a.secs.toFixed(1)} s, ${a.stored} lines stored); docker logs -f ${b.consumer.toFixed(2)} s vs engine ${b.engine.toFixed(2)} s (${b.secs.toFixed(1)} s)\n`);
    } finally {
      removeBenchContainers();
      await rm(dir, { recursive: true, force: true });
    }
  }
  loads.push(loadNote());
  const ratio = median(rec.map((p) => p.consumer / p.engine));
  const allStored = rec.every((p) => p.stored === LINES);
  const baseRatio = median(base.map((p) => p.consumer / p.engine));
  const s = (xs: number[]): string => `${median(xs).toFixed(2)} s`;
  appendResult('log capture CPU (bench/log-cpu.ts)', [
    {
      what: `recorder CPU while a container writes ${LINES.toLocaleString('en')} log lines as fast as it can (median of ${runs})`,
      budget: '≤ 0.5x the engine\'s CPU for the same work, every line stored',
      measured: `${ratio.toFixed(2)}x (recorder ${s(rec.map((p) => p.consumer))}, dockerd + shim ${s(rec.map((p) => p.engine))}, ${s(rec.map((p) => p.secs))} wall); stored ${rec.map((p) => p.stored).join(', ')} of ${LINES.toLocaleString('en')}`,
      met: ratio <= 0.5 && allStored,
    },
    {
      what: 'baseline: `docker logs -f` into a file, same lines, same run',
      budget: 'n/a (reference)',
      measured: `${baseRatio.toFixed(2)}x (docker CLI ${s(base.map((p) => p.consumer))}, dockerd + shim ${s(base.map((p) => p.engine))}, ${s(base.map((p) => p.secs))} wall)`,
      met: undefined,
    },
  ], `Lines of ~85 bytes from busybox awk. CPU is utime + stime from /proc (recorder with its children; dockerd, which serves the follower, and the container's containerd shim), from the moment the container starts printing until the recorder has stored the last line (the recorder is polled for it over its socket every 100 ms) or the file has every byte. The two phases run one after the other in each run, each with its own container and a single follower. The engine is shared with other work on this machine, so dockerd's figure includes whatever else it did in the interval. Runs (recorder / engine, s): ${rec.map((p) => `${p.consumer.toFixed(2)} / ${p.engine.toFixed(2)}`).join('; ')}; docker logs -f / engine: ${base.map((p) => `${p.consumer.toFixed(2)} / ${p.engine.toFixed(2)}`).join('; ')}. Machine ${loads.join(' before, ')} after.`);
}

await main();
