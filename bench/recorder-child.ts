/**
 * The recorder as the benchmarks measure it: `dashcam record` in its own process (so its CPU and
 * memory are its own, not the benchmark's), started on a temp store and stopped with SIGTERM, which
 * flushes every pending batch before it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface RecorderChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The recorder's log lines so far (stderr). */
  readonly log: string[];
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts `dashcam record` and resolves once it logs that it is recording (all sources started). */
export async function startRecorderChild(store: string, sources: string, extra: string[] = [], timeoutMs = 180_000): Promise<RecorderChild> {
  // DASHCAM_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the recorder alone.
  const nodeArgs = (process.env.DASHCAM_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'record', '--store', store, '--sources', sources, '--stats-interval', '0', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (l) => {
      log.push(l);
      if (/ info recording to /.test(l)) resolve();
    });
    void exited.then((code) => reject(new Error(`recorder exited (code ${code}) before it was ready:\n${log.slice(-10).join('\n')}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([ready, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`recorder not ready within ${timeoutMs} ms`)), timeoutMs)))]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    child,
    pid: child.pid!,
    log,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
