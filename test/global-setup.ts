/**
 * The suite runs against a real engine (scripts/test-env.sh starts one). A missing engine is a
 * failure, never a skip: without it half the suite would prove nothing.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'pipe', timeout: 10_000 });
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(`no Docker engine at ${process.env.DOCKER_HOST ?? 'the default socket'} (run the suite with \`npm test\`, which starts one): ${why}`);
  }
}
