/**
 * Runs bpftrace on a program file and streams its stdout lines. If bpftrace dies it is started
 * again with backoff (1 s doubling to 30 s); the caller hears about each death and each
 * (re)attach so it can record the hole as a gap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.js';
import { PacedReader } from '../paced-reader.js';

export interface RunnerHooks {
  line(text: string): void;
  died(reason: string): void;
}

/** On stop, bpftrace is interrupted once its output has been quiet this long (at most DRAIN_MAX_MS). */
const QUIET_MS = 50;
const DRAIN_MAX_MS = 1000;

export class BpftraceRunner {
  readonly #bin: string;
  readonly #file: string;
  readonly #log: Logger;
  readonly #hooks: RunnerHooks;
  #child: ChildProcess | undefined;
  #reader: PacedReader | undefined;
  #stopping = false;
  #backoff = 1000;
  #timer: NodeJS.Timeout | undefined;
  restarts = 0;

  constructor(bin: string, file: string, log: Logger, hooks: RunnerHooks) {
    this.#bin = bin;
    this.#file = file;
    this.#log = log;
    this.#hooks = hooks;
  }

  start(): void {
    if (this.#stopping) return;
    const child = spawn(this.#bin, ['--no-warnings', '-f', 'json', this.#file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Long paths and argv elements: the most bpftrace 0.17 allows per string.
      env: { ...process.env, BPFTRACE_STRLEN: '200', BPFTRACE_PERF_RB_PAGES: process.env.DASHCAM_BPFTRACE_RB_PAGES ?? '256' },
    });
    this.#child = child;
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (l) => this.#hooks.line(l));
    this.#reader = new PacedReader(child.stdout!);
    createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (l) => {
      if (/RLIMIT_MEMLOCK/.test(l)) return; // harmless on kernels that account BPF memory by cgroup
      if (/Lost \d+ events/.test(l)) { this.#hooks.line(l); return; }
      this.#log.warn(`bpftrace: ${l}`);
    });
    let spawnError: string | undefined;
    child.on('error', (err) => {
      this.#log.error(`bpftrace: ${err.message}`);
      // Never spawned (no such file, not executable): no 'exit' follows, so this is the death.
      if (child.pid === undefined) {
        spawnError = err.message;
        child.emit('exit', null, null);
      }
    });
    child.on('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#stopping) return;
      const why = spawnError ? `bpftrace could not run (${spawnError})` : `bpftrace exited (${signal ?? `code ${code}`})`;
      this.#log.warn(`${why}; restarting in ${this.#backoff} ms`);
      this.#hooks.died(why);
      this.restarts++;
      this.#timer = setTimeout(() => this.start(), this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, 30_000);
    });
  }

  /** Attached again: the next death waits only a second before the restart. */
  attached(): void {
    this.#backoff = 1000;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Takes what bpftrace has already written, lets it write out what it has read from the kernel
   * (SIGINT once its output has been quiet for QUIET_MS), and resolves once every line of its
   * output has been handed over: on 'close', not 'exit', which can come before stdout is read.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    const child = this.#child;
    if (!child) return;
    const closed = new Promise<void>((r) => child.once('close', () => r()));
    const reader = this.#reader!;
    reader.unpace();
    if (child.exitCode === null && child.signalCode === null) {
      const end = Date.now() + DRAIN_MAX_MS;
      while (Date.now() - reader.lastData < QUIET_MS && Date.now() < end) await new Promise((r) => setTimeout(r, QUIET_MS / 2));
      child.kill('SIGINT');
    }
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await closed;
    clearTimeout(t);
  }
}
