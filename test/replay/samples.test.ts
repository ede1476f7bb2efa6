/**
 * The bundles shipped in samples/ (the README's first command replays one): each verifies, and
 * replays as JSON Lines and as text. Some were written by an earlier event format (version 1, one
 * event per entry), so this is also the test that older bundles stay readable.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/recorder.js';
import { verifyBundleFile } from '../../replay/verify-command.js';
import { openBundleKV } from '../../replay/bundle-kv.js';
import { replayCommand } from '../../replay/replay-command.js';

const DIR = fileURLToPath(new URL('../../samples/', import.meta.url));
const bundles = readdirSync(DIR).filter((f) => f.endsWith('.dcb'));

class Text extends Writable {
  text = '';
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += c.toString();
    cb();
  }
}

describe('sample bundles', () => {
  it('are there, and include one of event format version 1', async () => {
    expect(bundles.length).toBeGreaterThanOrEqual(3);
    const versions = await Promise.all(bundles.map(async (f) => (await verifyBundleFile({ file: join(DIR, f) })).bundle.manifest.eventFormatVersion));
    expect(versions).toContain(1);
  });

  for (const f of bundles) {
    it(`${f} verifies and replays as JSON Lines and text`, async () => {
      const { result, bundle } = await verifyBundleFile({ file: join(DIR, f) });
      expect(result.failed).toEqual([]);
      for (const format of ['json', 'text'] as const) {
        const b = await openBundleKV(join(DIR, f));
        const out = new Text();
        const n = await replayCommand({ store: '', container: b.containers, format }, out, b.kv);
        expect(n).toBeGreaterThan(0);
        const lines = out.text.trimEnd().split('\n');
        if (format === 'json') {
          expect(lines.length).toBe(n);
          for (const l of lines) expect(JSON.parse(l)).toHaveProperty('kind');
        }
      }
      expect(bundle.manifest.counts.events).toBeGreaterThan(0);
    });
  }

  it('end quietly when the reader closes the pipe first (`| head`)', async () => {
    for (const format of ['json', 'text']) {
      const child = spawn(process.execPath, [CLI, 'replay', '--bundle', join(DIR, 'suspicious-shell.dcb'), '--format', format], { stdio: ['ignore', 'pipe', 'pipe'] });
      // Closed before anything is written: the first write fails with EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
      expect({ format, code, stderr }).toEqual({ format, code: 0, stderr: '' });
    }
  });
});
