/**
 * Recorder CPU while a container writes 100,000 log lines as fast as it can, against the engine's
 * own CPU for the same work (dockerd + the container's containerd shim), measured on both in one
 * phase; every line must be stored. Baseline in the same run: `docker logs -f` into a file, the
 * cost of the plainest log consumer, with the engine's CPU measured the same way.
 *
 * The container waits on a FIFO before it prints, so container start-up is outside the measured
 * interval, and sleeps afterwards, so its shim is still there to be read at the end.
 *
 *   node dist/bench/log-cpu.js [runs=5]
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

/** One storm into a running recorder: CPU of both sides from the first line to the last stored. */
async function storm(remote: RemoteKV, recPid: number, image: string, dir: string, tag: string): Promise<Phase & { id: string }> {
  const { id, fifo } = startPrinter(image, dir, tag);
  let fd = -1;
  try {
    const engine = enginePids(id);
    await until('the recorder to see the container', async () => (await getContainer(remote, id)) !== undefined, 30_000);
    await sleep(300); // its log follower attaches right after
    const r0 = CpuSnapshot.take([recPid], true);
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
    return { id, consumer: CpuSnapshot.take([recPid], true).since(r0), engine: CpuSnapshot.take(engine).since(e0), secs };
  } finally {
    if (fd >= 0) closeSync(fd);
    docker(['rm', '-f', id]);
  }
}

/**
 * A fresh recorder, and two storms into it: the first is its first work on logs (V8 compiles the
 * log path as it goes), the second is what a recorder that has been running a while pays.
 */
async function recorderPhases(image: string, dir: string, run: number): Promise<[Phase, Phase]> {
  const store = join(dir, 'store');
  const rec = await startRecorderChild(store, 'docker');
  try {
    const remote = await RemoteKV.connect(join(store, SOCKET_NAME));
    const fresh = await storm(remote, rec.pid, image, dir, `rec${run}`);
    const warm = await storm(remote, rec.pid, image, dir, `warm${run}`);
    await remote.close();
    await rec.stop();
    const kv = await openLevelStore(store);
    for (const p of [fresh, warm]) {
      p.stored = 0;
      for await (const evs of eventChunks(kv, p.id)) for (const ev of evs) if (ev.kind === 'log') p.stored++;
    }
    await kv.close();
    return [fresh, warm];
  } finally {
    await rec.stop();
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
  const runs = Number(process.argv[2] ?? 5);
  const image = ensureEngine();
  const expect = expectedBytes();
  const fresh: Phase[] = [];
  const warm: Phase[] = [];
  const base: Phase[] = [];
  const loads: string[] = [loadNote()];
  const fmt = (p: Phase): string => `${p.consumer.toFixed(2)} / ${p.engine.toFixed(2)}`;
  for (let run = 0; run < runs; run++) {
    const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-logcpu-'));
    try {
      const [a, w] = await recorderPhases(image, dir, run);
      const b = await dockerLogsPhase(image, dir, run, expect);
      fresh.push(a);
      warm.push(w);
      base.push(b);
      process.stderr.write(`run ${run + 1}: recorder ${fmt(a)} s CPU (recorder / engine; ${a.secs.toFixed(1)} s, ${a.stored} lines stored), warm ${fmt(w)} (${w.stored} stored); docker logs -f ${fmt(b)} (${b.secs.toFixed(1)} s)\n`);
    } finally {
      removeBenchContainers();
      await rm(dir, { recursive: true, force: true });
    }
  }
  loads.push(loadNote());
  const ratio = (ps: Phase[]): number => median(ps.map((p) => p.consumer / p.engine));
  const s = (xs: number[]): string => `${median(xs).toFixed(2)} s`;
  const figures = (ps: Phase[], who: string): string => `${ratio(ps).toFixed(2)}x (${who} ${s(ps.map((p) => p.consumer))}, dockerd + shim ${s(ps.map((p) => p.engine))}, ${s(ps.map((p) => p.secs))} wall)`;
  const stored = (ps: Phase[]): string => `stored ${ps.map((p) => p.stored).join(', ')} of ${LINES.toLocaleString('en')}`;
  const allStored = (ps: Phase[]): boolean => ps.every((p) => p.stored === LINES);
  appendResult('log capture CPU (bench/log-cpu.ts)', [
    {
      what: `recorder CPU while a container writes ${LINES.toLocaleString('en')} log lines as fast as it can (median of ${runs}; a fresh recorder's first lines)`,
      budget: '≤ 0.5x the engine\'s CPU for the same work, every line stored',
      measured: `${figures(fresh, 'recorder')}; ${stored(fresh)}`,
      met: ratio(fresh) <= 0.5 && allStored(fresh),
    },
    {
      what: 'the same, a second container right after, into the same recorder (its log path compiled)',
      budget: 'n/a (steady state)',
      measured: `${figures(warm, 'recorder')}; ${stored(warm)}`,
      met: undefined,
    },
    {
      what: 'baseline: `docker logs -f` into a file, same lines, same run',
      budget: 'n/a (reference)',
      measured: figures(base, 'docker CLI'),
      met: undefined,
    },
  ], `Lines of ~85 bytes from busybox awk. CPU is utime + stime from /proc (recorder with its children; dockerd, which serves the follower, and the container's containerd shim), from the moment the container starts printing until the recorder has stored the last line (the recorder is polled for it over its socket every 100 ms) or the file has every byte. Each run starts a recorder, sends it two storms one after the other (each its own container, removed after), then runs \`docker logs -f\` on a third. The engine is shared with other work on this machine, so dockerd's figure includes whatever else it did in the interval. Runs (recorder / engine, s): first storm ${fresh.map(fmt).join('; ')}; second ${warm.map(fmt).join('; ')}; docker logs -f / engine: ${base.map(fmt).join('; ')}. Machine ${loads.join(' before, ')} after.`);
}

await main();
