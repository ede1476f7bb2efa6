/**
 * Slowdown of a 3,000-exec loop in a container with the recorder's eBPF capture on, versus off;
 * every exec must be recorded. Baseline in the same run: bpftrace alone running the recorder's
 * generated program writing to a file nobody reads, so the recorder's own share (parsing,
 * attribution, storing) is visible. Off and on runs alternate (which goes first alternates too) to
 * cancel drift on this shared machine; the bpftrace-alone loops run in the middle, in one attach;
 * figures are medians.
 *
 * The loop times itself inside the container (/proc/uptime around the loop), and waits on a FIFO
 * before it starts, so container start-up and the recorder noticing the container are outside it.
 *
 *   node dist/bench/ebpf-overhead.js [runs=5] [bpftraceAloneRuns=3]
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync, constants as fsc } from 'node:fs';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStore } from '../formats/level-store.js';
import { eventChunks, getContainer } from '../formats/queries.js';
import { SOCKET_NAME } from '../formats/frames.js';
import { RemoteKV } from '../replay/remote-kv.js';
import { buildProgram } from '../recorder/ebpf/program.js';
import { DEFAULT_SENSITIVE, SensitiveList } from '../recorder/ebpf/sensitive.js';
import { appendResult, median } from './report.js';
import { CpuSnapshot, descendants, loadNote } from './proc-cpu.js';
import { RUN_LABEL, docker, ensureEngine, removeBenchContainers } from './engine-env.js';
import { startRecorderChild } from './recorder-child.js';

const EXECS = 3000;
const MARK = 'dashcam-bench';
const LOOP = `read x < /trigger/go; cat /proc/uptime; i=0; while [ $i -lt ${EXECS} ]; do /bin/true ${MARK}; i=$((i+1)); done; cat /proc/uptime`;
const TRACEFS = '/sys/kernel/tracing';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Creates the loop container, waiting on its FIFO. */
function createLoop(image: string, dir: string, tag: string): { id: string; fifo: string } {
  const trig = join(dir, `trig-${tag}`);
  mkdirSync(trig);
  execFileSync('mkfifo', [join(trig, 'go')]);
  const id = docker(['run', '-d', '--label', RUN_LABEL, '--name', `dashcam-bench-exec-${process.pid}-${tag}`, '-v', `${trig}:/trigger`, image, 'sh', '-c', LOOP]);
  return { id, fifo: join(trig, 'go') };
}

/** Starts the loop and returns its duration in seconds, as the container measured it. */
function runLoop(c: { id: string; fifo: string }): number {
  const fd = openSync(c.fifo, fsc.O_RDWR);
  try {
    writeSync(fd, 'go\n');
    const code = docker(['wait', c.id]);
    if (code !== '0') throw new Error(`loop container exited with ${code}`);
  } finally {
    closeSync(fd);
  }
  const up = docker(['logs', c.id]).split('\n').map((l) => Number(l.split(' ')[0]));
  docker(['rm', '-f', c.id]);
  if (up.length !== 2 || up.some((x) => !Number.isFinite(x))) throw new Error(`unexpected loop output ${JSON.stringify(up)}`);
  return up[1]! - up[0]!;
}

function offRun(image: string, dir: string, tag: string): number {
  return runLoop(createLoop(image, dir, tag));
}

interface OnRun { secs: number; recorded: number; nodeCpu: number; bpftraceCpu: number }

async function onRun(image: string, dir: string, tag: string): Promise<OnRun> {
  const store = join(dir, `store-${tag}`);
  const rec = await startRecorderChild(store, 'docker,ebpf');
  try {
    const remote = await RemoteKV.connect(join(store, SOCKET_NAME));
    const c = createLoop(image, dir, tag);
    const end = Date.now() + 30_000;
    while (!(await getContainer(remote, c.id))) {
      if (Date.now() > end) throw new Error('the recorder did not see the loop container');
      await sleep(100);
    }
    await remote.close();
    await sleep(500); // the eBPF source learns the container's cgroup right after
    // CPU of the recorder itself and of its bpftrace child over the loop (and the container's exit).
    const bt = descendants(rec.pid);
    const n0 = CpuSnapshot.take([rec.pid]);
    const b0 = CpuSnapshot.take(bt);
    const secs = runLoop(c);
    const nodeCpu = CpuSnapshot.take([rec.pid]).since(n0);
    const bpftraceCpu = CpuSnapshot.take(bt).since(b0);
    await rec.stop();
    const kv = await openLevelStore(store);
    let recorded = 0;
    for await (const evs of eventChunks(kv, c.id)) for (const ev of evs) if (ev.kind === 'exec' && ev.argv?.[1] === MARK) recorded++;
    await kv.close();
    return { secs, recorded, nodeCpu, bpftraceCpu };
  } finally {
    await rec.stop();
  }
}

/** The program the recorder generates, built the same way (recorder/ebpf/ebpf-source.ts). */
async function recorderProgram(): Promise<string> {
  const tracepoints = new Set<string>();
  for (const cat of ['sched', 'sock', 'syscalls']) {
    for (const n of await readdir(`${TRACEFS}/events/${cat}`).catch(() => [] as string[])) tracepoints.add(`${cat}:${n}`);
  }
  // The host's mount namespace, as the source finds it: pid 1's, else our own.
  const link = (await readlink('/proc/1/ns/mnt').catch(() => '')) || (await readlink('/proc/self/ns/mnt').catch(() => ''));
  const m = /\[(\d+)\]/.exec(link);
  return buildProgram({ tracepoints, sensitivePrefixes: new SensitiveList(DEFAULT_SENSITIVE).prefixes(), maxArgs: 20, maxCwdDepth: 16, hostMntNs: m ? Number(m[1]) : undefined });
}

/**
 * bpftrace with the recorder's program and environment, writing to a file that nobody reads while
 * it runs (a pipe drained by `cat` would wake the reader once per record, a cost the recorder's
 * paced reads avoid). Its first record (the attach notice) says the probes are in.
 */
async function startBpftraceAlone(file: string, out: string): Promise<ChildProcess> {
  const child = spawn('bpftrace', ['--no-warnings', '-f', 'json', '-o', out, file], {
    stdio: ['ignore', 'ignore', 'ignore'], detached: true,
    env: { ...process.env, BPFTRACE_STRLEN: '200', BPFTRACE_PERF_RB_PAGES: process.env.DASHCAM_BPFTRACE_RB_PAGES ?? '256' },
  });
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; });
  const end = Date.now() + 120_000;
  for (;;) {
    const first = existsSync(out) ? readFileSync(out, 'utf8').split('\n', 1)[0]! : '';
    if (first.includes('attached_probes')) return child;
    if (first !== '') throw new Error(`unexpected first bpftrace line ${first}`);
    if (exited !== undefined) throw new Error(`bpftrace exited (${exited}) before attaching`);
    if (Date.now() > end) throw new Error('bpftrace did not attach within 120 s');
    await sleep(100);
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(-child.pid!, 'SIGINT');
  const t = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** One bpftrace session (one compile and attach) for several loops: attaching takes longer than a loop. */
async function aloneRuns(image: string, dir: string, n: number, file: string): Promise<number[]> {
  const bt = await startBpftraceAlone(file, join(dir, 'bpftrace-alone.out'));
  try {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(runLoop(createLoop(image, dir, `bt${i}`)));
    return out;
  } finally {
    await stopGroup(bt);
  }
}

/**
 * The recorder's own share of the slowdown: capture on minus bpftrace alone. When that difference
 * is smaller than the spread of the off runs, it is noise and is said as such, not as a figure.
 */
function ownShare(on: number, alone: number, off: number, offRuns: number[]): string {
  const spread = Math.max(...offRuns) - Math.min(...offRuns);
  const share = `the recorder's own share ≈ ${((on - alone) / off).toFixed(2)}x`;
  return Math.abs(on - alone) > spread ? share
    : `${share}, within the spread of the off runs (${spread.toFixed(2)} s): on this run bpftrace's cost and the recorder's cannot be told apart`;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const nAlone = Number(process.argv[3] ?? 3);
  const image = ensureEngine();
  const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-ebpf-'));
  const loads = [loadNote()];
  const off: number[] = [];
  const on: number[] = [];
  const recorded: number[] = [];
  const cpu: { node: number[]; bt: number[] } = { node: [], bt: [] };
  const alone: number[] = [];
  try {
    const file = join(dir, 'dashcam.bt');
    writeFileSync(file, await recorderProgram(), { mode: 0o600 });
    for (let i = 0; i < runs; i++) {
      // Alternate which comes first, so a drift in the machine's load does not favour one side.
      const first = i % 2 === 0 ? 'off' : 'on';
      for (const mode of first === 'off' ? ['off', 'on'] : ['on', 'off']) {
        if (mode === 'off') off.push(offRun(image, dir, `off${i}`));
        else {
          const r = await onRun(image, dir, `on${i}`);
          on.push(r.secs);
          recorded.push(r.recorded);
          cpu.node.push(r.nodeCpu);
          cpu.bt.push(r.bpftraceCpu);
        }
      }
      process.stderr.write(`run ${i + 1}: off ${off.at(-1)!.toFixed(2)} s, on ${on.at(-1)!.toFixed(2)} s (${recorded.at(-1)} execs recorded)\n`);
      // The baseline in the middle of the run, so it sees the same machine as the on/off pairs.
      if (i === Math.floor((runs - 1) / 2)) {
        alone.push(...(await aloneRuns(image, dir, nAlone, file)));
        process.stderr.write(`bpftrace alone: ${alone.map((x) => x.toFixed(2)).join(', ')} s\n`);
      }
    }
  } finally {
    removeBenchContainers();
    await rm(dir, { recursive: true, force: true });
  }
  loads.push(loadNote());
  const mOff = median(off);
  const mOn = median(on);
  const mAlone = median(alone);
  const slow = mOn / mOff;
  const all = recorded.every((n) => n === EXECS);
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
  appendResult('eBPF capture overhead (bench/ebpf-overhead.ts)', [
    {
      what: `slowdown of a ${EXECS.toLocaleString('en')}-exec loop in a container, eBPF capture on vs off (median of ${runs} each, alternating)`,
      budget: '≤ 1.3x, every exec recorded',
      measured: `${slow.toFixed(2)}x (off ${mOff.toFixed(2)} s, on ${mOn.toFixed(2)} s); execs recorded ${recorded.join(', ')} of ${EXECS.toLocaleString('en')}`,
      met: slow <= 1.3 && all,
    },
    {
      what: 'baseline: bpftrace alone, the recorder\'s program, output to a file nobody reads, same run',
      budget: 'n/a (reference)',
      measured: `${(mAlone / mOff).toFixed(2)}x (${mAlone.toFixed(2)} s, median of ${alone.length}); ${ownShare(mOn, mAlone, mOff, off)}`,
      met: undefined,
    },
  ], `Loop: busybox sh running \`/bin/true\` ${EXECS} times (fork + exec each), timed inside the container with /proc/uptime (10 ms resolution). Runs (s): off ${fmt(off)}; on ${fmt(on)}; bpftrace alone ${fmt(alone)}. The recorder ran with \`--sources docker,ebpf\` and records every container on the engine, which other work shares. bpftrace alone: it writes to a file (\`-o\`) that nobody reads while it runs. CPU during the on loops (median): recorder process ${median(cpu.node).toFixed(2)} s, its bpftrace ${median(cpu.bt).toFixed(2)} s. Machine ${loads.join(' before, ')} after.`);
}

await main();
