/**
 * Issue 8: a container writes a 10 MiB line (no newline for a second), then 1,000,000 bytes of
 * binary garbage, then 1,000,000 short lines. The recorder (a child process) does not crash, its
 * memory stays bounded, the huge line is stored cut at --max-log-line with `truncated` = its
 * original length (the json-file driver splits it into 16 KiB pieces; the recorder joins them),
 * the garbage arrives as lines (the engine splits on \n and stores JSON, so invalid UTF-8 reads
 * as U+FFFD) and every one of the 1,000,000 lines is stored, in order.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-store.js';
import { docker, removeTestContainers, runDetached, uniqueName } from '../../helpers/engine.js';
import { cli, exited, recorderReady, replayJson, spawnRecorder, until } from '../../helpers/recorder.js';

const BIG = 10 * 1024 * 1024;
const MAX_LINE = 256 * 1024;
const LINES = 1_000_000;
const RSS_LIMIT = 300 << 20;

afterAll(removeTestContainers);

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

describe('huge and hostile log output (real engine)', () => {
  it('stores a 10 MiB line truncated, garbage as lines, and all 1,000,000 short lines, in bounded memory', { timeout: 300_000 }, async () => {
    const store = await tempDir();
    const rec = spawnRecorder(store, ['--max-log-line', String(MAX_LINE)]);
    let maxRss = 0;
    const sampler = setInterval(() => void rssOf(rec.pid!).then((r) => (maxRss = Math.max(maxRss, r))), 200);
    const name = uniqueName('hugelog');
    let id = '';
    try {
      await recorderReady(rec);
      const t0 = Date.now();
      id = await runDetached(name, [], ['sh', '-c', [
        `head -c ${BIG} /dev/zero | tr '\\0' x`, 'sleep 1', 'echo',
        'head -c 1000000 /dev/urandom > /tmp/g', `tr -cd '\\n' < /tmp/g | wc -c >&2`, 'cat /tmp/g', 'echo',
        `seq 1 ${LINES}`, 'sleep 3600',
      ].join('; ')]);
      // Cheap progress first (the container record's event count), then one full replay.
      await until(async () => {
        const ls = await cli(['ls', '--all', '--store', store, '--format', 'json']);
        const row = ls.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name: string; events: number }).find((r) => r.name === name);
        return row && row.events > LINES;
      }, 240_000, 'over 1,000,000 events of the container');
      const events = await until(async () => {
        const evs = (await replayJson(store, name)).filter((e) => e.kind === 'log');
        return evs.length > 0 && evs[evs.length - 1]!.line === String(LINES) ? evs : undefined;
      }, 120_000, 'the last of the 1,000,000 lines');
      const storedMs = Date.now() - t0;
      expect(rec.exitCode).toBeNull();

      const out = events.filter((e) => e.stream === 'stdout');
      const newlines = Number(events.find((e) => e.stream === 'stderr')?.line);
      expect(Number.isInteger(newlines)).toBe(true);
      // The huge line: cut at the limit, its original length recorded.
      const big = out[0]!;
      expect(big.truncated).toBe(BIG);
      expect(String(big.line)).toBe('x'.repeat(MAX_LINE));
      // The garbage: one line per newline in it, plus the one the final echo ends. Counted from
      // the end, not by looking for the line '1': a megabyte of random bytes holds "\n1\n" in
      // about 6% of runs (10^6 / 256^3).
      const firstSeq = out.length - LINES;
      expect(firstSeq - 1).toBe(newlines + 1);
      // Every short line, once, in order.
      const seq = out.slice(firstSeq).map((e) => e.line);
      expect(seq.length).toBe(LINES);
      for (let i = 0; i < LINES; i++) if (seq[i] !== String(i + 1)) throw new Error(`line ${i + 1} is ${seq[i]}`);
      clearInterval(sampler);
      console.log(`huge-logs: ${out.length + 1} lines stored in ${storedMs} ms; 10 MiB line kept ${MAX_LINE} bytes, truncated=${big.truncated}; ` +
        `${newlines + 1} garbage lines; recorder peak RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB`);
      expect(maxRss).toBeGreaterThan(0);
      expect(maxRss).toBeLessThan(RSS_LIMIT);
    } finally {
      clearInterval(sampler);
      if (id) await docker('rm', '-f', id).catch(() => '');
      rec.kill('SIGTERM');
      await exited(rec);
    }
  });
});
