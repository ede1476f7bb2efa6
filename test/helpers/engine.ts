/**
 * The real Docker engine the suite runs against (a private dockerd started by
 * scripts/test-env.sh; DOCKER_HOST points at it). Containers made here carry a label so a test
 * cleans up only its own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);

export const IMAGE = process.env.DASHCAM_TEST_IMAGE ?? 'dashcam-test/busybox:latest';
/** Unique per test process, so concurrent runs against one engine never remove each other's containers. */
export const LABEL = `dashcam-test=${process.pid}-${randomBytes(3).toString('hex')}`;

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 << 20, env: process.env });
  return stdout.trim();
}

/** A container name unique to this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** `docker run -d` with the test label; returns the full container ID. */
export async function runDetached(name: string, args: string[], cmd: string[]): Promise<string> {
  return docker('run', '-d', '--label', LABEL, '--name', name, ...args, IMAGE, ...cmd);
}

export async function waitExit(id: string): Promise<number> {
  return Number(await docker('wait', id));
}

export async function removeTestContainers(): Promise<void> {
  const ids = (await docker('ps', '-aq', '--filter', `label=${LABEL}`)).split('\n').filter(Boolean);
  if (ids.length) await docker('rm', '-f', ...ids).catch(() => '');
}
