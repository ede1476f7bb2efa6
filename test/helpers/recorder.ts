/** Runs the recorder in-process against the test engine, or the CLI as a child process. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { removeTestContainers } from './engine.js';
import { record, type Recorder } from '../../recorder/record.js';
import { createLogger } from '../../recorder/logger.js';
import type { RecordOptions } from '../../recorder/record-options.js';
import { EbpfSource } from '../../recorder/ebpf/ebpf-source.js';

const run = promisify(execFile);
/** The built CLI (DASHCAM_TEST_CLI points elsewhere, e.g. a private build while dist/ is rebuilt). */
export const CLI = process.env.DASHCAM_TEST_CLI ?? fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export const logLines: string[] = [];
export async function startRecorder(store: string, opts: Partial<RecordOptions> = {}): Promise<Recorder> {
  return record({ store, sources: ['docker'], statsIntervalMs: 0, flushMs: 20, ...opts }, createLogger({ write: (l) => void logLines.push(l) }));
}

/** A recorder with the eBPF source; eBPF missing is a failure, never a skip. */
export async function startEbpfRecorder(store: string, opts: Partial<RecordOptions> = {}): Promise<Recorder> {
  const check = await EbpfSource.available();
  if (!check.ok) throw new Error(`these tests need eBPF: ${check.why}`);
  return startRecorder(store, { sources: ['docker', 'ebpf'], ...opts });
}

export interface CliResult { code: number; stdout: string; stderr: string }
/** Runs `dashcam ...` from dist/ and never throws on a non-zero exit. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message?: string };
    // A code that is not an exit status (the output overflowed maxBuffer, say) is said as such.
    if (typeof e.code !== 'number') return { code: 1, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${e.message ?? String(err)}` };
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export async function replayJson(store: string, container: string, extra: string[] = []): Promise<Record<string, unknown>[]> {
  const r = await cli(['replay', '--store', store, '--container', container, '--format', 'json', ...extra]);
  if (r.code !== 0) throw new Error(`replay failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * `replay --format json` read line by line as it comes, for windows too large to hold as one
 * string (a log storm): `visit` sees each event. Resolves with how many there were.
 */
export async function replayEach(store: string, container: string, visit: (ev: Record<string, unknown>) => void): Promise<number> {
  const child = spawn(process.execPath, [CLI, 'replay', '--store', store, '--container', container, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let n = 0;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (!line) continue;
    visit(JSON.parse(line) as Record<string, unknown>);
    n++;
  }
  const code = await exited;
  if (code !== 0) throw new Error(`replay failed (${code}): ${stderr}`);
  return n;
}

/** `dashcam record` as a child process (for restarts and kills). */
export function spawnRecorder(store: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, [CLI, 'record', '--store', store, '--sources', 'docker', '--stats-interval', '0', '--flush', '20ms', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Polls until `check` returns a truthy value (or throws after `ms`). */
export async function until<T>(check: () => Promise<T | undefined | false>, ms = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once a spawned recorder says it is connected to the engine (its log on stderr). */
export function recorderReady(p: ChildProcess, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`recorder not ready after ${ms} ms: ${buf}`)), ms);
    p.stderr?.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('engine connected')) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.once('exit', (code) => reject(new Error(`recorder exited (${code}): ${buf}`)));
  });
}

/** Resolves when a spawned process has exited. */
export function exited(p: ChildProcess): Promise<void> {
  return new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
}

/**
 * The hooks every e2e file needs: this file's containers removed before and after, and every
 * recorder started through `start` stopped after each test (stopping twice is harmless).
 */
export function useRecorders(): { start(store: string, opts?: Partial<RecordOptions>): Promise<Recorder> } {
  const running: Recorder[] = [];
  beforeAll(removeTestContainers);
  afterAll(removeTestContainers);
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });
  return {
    async start(store, opts = {}) {
      const r = await startRecorder(store, opts);
      running.push(r);
      return r;
    },
  };
}
