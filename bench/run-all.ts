/**
 * `npm run bench`: every scenario in bench/, one after the other, each in its own process (so
 * one's memory and JIT state never colour the next, and each stays runnable alone as
 * `node dist/bench/<name>.js`). Brings the private engine up first when DOCKER_HOST is not set.
 * A full run starts docs/benchmarks.md afresh so it holds exactly this run; named scenarios
 * replace their own sections and keep the rest (--append keeps old runs instead: report.ts).
 *
 *   node dist/bench/run-all.js [--append] [name ...]
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ensureEngine } from './engine-env.js';
import { loadNote } from './proc-cpu.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
/** Known scenarios, cheapest and engine-free first; any other scenario file found runs after them. */
const ORDER = ['ingest', 'replay-seek', 'export-verify', 'retention', 'memory', 'log-cpu', 'ebpf-overhead'];
const NEEDS_ENGINE = new Set(['log-cpu', 'ebpf-overhead']);
/** A scenario must finish within this (memory, the longest, takes about 5 minutes: 3 rounds of 2 runs). */
const LIMIT_MS = 8 * 60_000;

/** Scenario files: those that report results (helpers such as synthetic.js do not). */
function scenarios(): string[] {
  const found = readdirSync(HERE)
    .filter((f) => f.endsWith('.js') && f !== 'run-all.js' && f !== 'report.js')
    .map((f) => f.slice(0, -3))
    .filter((n) => readFileSync(join(HERE, `${n}.js`), 'utf8').includes('appendResult('));
  return [...ORDER.filter((n) => found.includes(n)), ...found.filter((n) => !ORDER.includes(n)).sort()];
}

function runOne(name: string): Promise<{ code: number | null; secs: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(HERE, `${name}.js`)], { stdio: 'inherit' });
  const timer = setTimeout(() => {
    process.stderr.write(`run-all: ${name} exceeded ${LIMIT_MS / 60_000} minutes; stopping it\n`);
    child.kill('SIGTERM');
  }, LIMIT_MS);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, secs: (performance.now() - t0) / 1000 });
  }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const append = args.includes('--append');
  const asked = args.filter((a) => !a.startsWith('--'));
  const all = scenarios();
  const unknown = asked.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')} (have: ${all.join(', ')})`);
  const list = asked.length ? all.filter((n) => asked.includes(n)) : all;
  if (list.some((n) => NEEDS_ENGINE.has(n))) ensureEngine();
  if (!append && !asked.length && existsSync(DOC)) rmSync(DOC);
  if (append) process.env.DASHCAM_BENCH_APPEND = '1';

  const t0 = performance.now();
  const summary: string[] = [];
  let failed = 0;
  for (const name of list) {
    process.stderr.write(`\nrun-all: ${name} (${loadNote()})\n`);
    const r = await runOne(name);
    if (r.code !== 0) failed++;
    summary.push(`${name.padEnd(16)} ${r.code === 0 ? 'ok    ' : `FAILED (exit ${r.code})`} ${r.secs.toFixed(0).padStart(4)} s`);
  }
  const total = (performance.now() - t0) / 1000;
  process.stdout.write(`\n${summary.join('\n')}\n${'total'.padEnd(16)} ${''.padEnd(6)} ${total.toFixed(0).padStart(4)} s\nresults in ${DOC}\n`);
  if (failed) process.exitCode = 1;
}

await main();
