/**
 * The Docker engine the benchmarks that need one run against. When DOCKER_HOST is already set
 * (the caller sourced .test-env/env, or run-all did this), it is used as is; otherwise the repo's
 * private engine is brought up with scripts/test-env.sh and its environment is read into
 * process.env, so child processes (the recorder, the docker CLI) inherit it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `export K=V` lines of .test-env/env, with $PATH expanded. */
export function parseEnvFile(text: string, path = process.env.PATH ?? ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^["']|["']$/g, '').replace(/\$PATH|\$\{PATH\}/g, path);
  }
  return out;
}

/** Makes sure an engine answers and DOCKER_HOST / DASHCAM_TEST_IMAGE are set. Returns the image. */
export function ensureEngine(): string {
  if (!process.env.DOCKER_HOST) {
    execFileSync('bash', [`${ROOT}scripts/test-env.sh`, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
    Object.assign(process.env, parseEnvFile(readFileSync(`${ROOT}.test-env/env`, 'utf8')));
  }
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    process.stderr.write(`bench: no Docker engine answers at DOCKER_HOST=${process.env.DOCKER_HOST} (start it with scripts/test-env.sh up, or unset DOCKER_HOST and the benchmark starts the private engine)\n`);
    process.exit(1);
  }
  return process.env.DASHCAM_TEST_IMAGE || 'dashcam-test/busybox:latest';
}

/** Root of the repository (dist/bench/../..), where dist/cli/main.js lives. */
export const REPO_ROOT = ROOT;

/** `docker ...` against the engine, stdout as text. */
export function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Label on every container a benchmark process starts, so it can remove them all at the end. */
export const RUN_LABEL = `dashcam-bench-run=${process.pid}`;

/** Removes whatever containers this process started and left behind (after a failure). */
export function removeBenchContainers(): void {
  const ids = docker(['ps', '-aq', '--filter', `label=${RUN_LABEL}`]).split('\n').filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
}
