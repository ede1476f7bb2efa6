/**
 * Issue 8: the store is damaged on disk (a table file truncated or overwritten in the middle, the
 * MANIFEST or CURRENT file damaged). `ls`, `replay` and `record` say so in one line with the code
 * STORE_CORRUPT and the repair hint, exit 1, print no stack trace; `dashcam repair` salvages what
 * it can, after which the store reads cleanly again.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cp, mkdtemp, open, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-store.js';
import { removeTestContainers, runDetached, uniqueName, waitExit } from '../../helpers/engine.js';
import { CLI, cli, replayJson, startRecorder, until, type CliResult } from '../../helpers/recorder.js';
import { openLevelStore } from '../../../formats/level-store.js';

const run = promisify(execFile);
const LINES = 40_000;
const names = [uniqueName('corrupt-a'), uniqueName('corrupt-b'), uniqueName('corrupt-c')];
let pristine = '';
const before = new Map<string, number>();

afterAll(async () => {
  await removeTestContainers();
  if (pristine) await rm(pristine, { recursive: true, force: true });
  // `repair` keeps each store as it was beside it; these are the copies' siblings in tmpdir.
  for (const n of await readdir(tmpdir())) if (/^dashcam-corrupt-.*\.before-repair-/.test(n)) await rm(join(tmpdir(), n), { recursive: true, force: true });
});

/** `dashcam record` must refuse at once; a recorder that starts would run until the timeout. */
async function recordBriefly(store: string): Promise<CliResult & { killed: boolean }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'record', '--store', store, '--sources', 'docker', '--stats-interval', '0'], { timeout: 20_000 });
    return { code: 0, stdout, stderr, killed: false };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; killed?: boolean };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '', killed: e.killed === true };
  }
}

function expectCorruptReport(r: CliResult, store: string): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/\[STORE_CORRUPT\]$/);
  expect(lines[0]).toContain(`dashcam repair --store ${store}`);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

async function tables(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.ldb')).sort();
}

async function copyOf(): Promise<string> {
  const dir = await tempDir('dashcam-corrupt-');
  await rm(dir, { recursive: true });
  await cp(pristine, dir, { recursive: true });
  return dir;
}

async function logCount(store: string, name: string): Promise<number> {
  return (await replayJson(store, name)).filter((e) => e.kind === 'log').length;
}

/** After repair: `ls --all` works, lists only our containers, and each listed one replays. */
async function expectReadable(store: string): Promise<Map<string, number>> {
  const ls = await cli(['ls', '--all', '--store', store, '--format', 'json']);
  expect(ls.code, ls.stderr).toBe(0);
  const listed = ls.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name: string; exitCode?: number });
  const ours = listed.filter((c) => names.includes(c.name));
  const counts = new Map<string, number>();
  for (const c of ours) {
    expect(c.exitCode).toBe(names.indexOf(c.name) + 3);
    counts.set(c.name, await logCount(store, c.name));
  }
  return counts;
}

beforeAll(async () => {
  // Shared by the tests (read-only: each damages its own copy), so not a per-test temp dir.
  pristine = await mkdtemp(join(tmpdir(), 'dashcam-pristine-'));
  const rec = await startRecorder(pristine);
  try {
    // Lines that do not compress to nothing, so the compacted store spans several tables.
    const ids = await Promise.all(names.map((n, i) => runDetached(n, [], ['sh', '-c',
      `i=0; while [ $i -lt ${LINES} ]; do echo "$i $RANDOM$RANDOM$RANDOM $RANDOM$RANDOM$RANDOM $RANDOM$RANDOM"; i=$((i+1)); done; exit ${i + 3}`])));
    await Promise.all(ids.map(waitExit));
    let count = 0;
    for (const n of names) await until(async () => (count = await logCount(pristine, n)) === LINES, 60_000, `${n}'s lines`).catch((err: Error) => {
      throw new Error(`${err.message} (${count} of ${LINES} stored)`);
    });
  } finally {
    await rec.stop();
  }
  const kv = await openLevelStore(pristine);
  await kv.compact(new Uint8Array([0]), new Uint8Array([0xff, 0xff]));
  await kv.close();
  for (const n of names) before.set(n, LINES);
}, 180_000);

describe('a corrupted store (real engine)', () => {
  it('reports a truncated table in one line everywhere, and repair salvages the other tables', { timeout: 120_000 }, async () => {
    const store = await copyOf();
    const t = await tables(store);
    expect(t.length).toBeGreaterThanOrEqual(2);
    const last = join(store, t[t.length - 1]!);
    const sizes0 = (await stat(last)).size;
    await truncate(last, Math.floor(sizes0 / 2));

    expectCorruptReport(await cli(['ls', '--all', '--store', store]), store);
    expectCorruptReport(await cli(['replay', '--store', store, '--container', names[0]!]), store);
    const rec = await recordBriefly(store);
    expect(rec.killed).toBe(false);
    expectCorruptReport(rec, store);

    const repair = await cli(['repair', '--store', store]);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/^repaired .*: \d+ events of \d+ containers readable/);
    // The store as it was is kept, byte for byte, beside the repaired one.
    const kept = /kept at (\S+)$/.exec(repair.stdout.trim())?.[1];
    expect(kept && (await stat(join(kept, t[t.length - 1]!))).size).toBe(Math.floor(sizes0 / 2));
    const after = await expectReadable(store);
    // Container records sort first, so they live in the first table, which is intact.
    expect([...after.keys()].sort()).toEqual([...names].sort());
    const total = [...after.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(3 * LINES);
    console.log(`corrupt-store (truncated last of ${t.length} tables): ${3 * LINES - total} of ${3 * LINES} log lines lost; ${repair.stdout.trim()}`);
  });

  it('reports a table overwritten in the middle when a read meets it, and repair drops only the damaged blocks', { timeout: 120_000 }, async () => {
    const store = await copyOf();
    const t = await tables(store);
    const sizes = await Promise.all(t.map(async (n) => (await stat(join(store, n))).size));
    const victim = join(store, t[sizes.indexOf(Math.max(...sizes))]!);
    const fh = await open(victim, 'r+');
    await fh.write(randomBytes(4096), 0, 4096, Math.floor(Math.max(...sizes) / 2));
    await fh.close();

    // The damaged blocks hold some container's events: replaying it says so.
    const reports: CliResult[] = [];
    for (const n of names) reports.push(await cli(['replay', '--store', store, '--container', n, '--format', 'json']));
    const failed = reports.filter((r) => r.code !== 0);
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) expectCorruptReport(r, store);

    const repair = await cli(['repair', '--store', store]);
    expect(repair.code, repair.stderr).toBe(0);
    const after = await expectReadable(store);
    expect(after.size).toBe(3);
    const total = [...after.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(3 * LINES);
    expect(total).toBeGreaterThan(LINES);
    console.log(`corrupt-store (4 KiB overwritten in a table): ${3 * LINES - total} of ${3 * LINES} log lines lost after repair`);
  });

  it('reports a damaged MANIFEST or a missing or garbled CURRENT, and repair recovers everything', { timeout: 120_000 }, async () => {
    const damages: [string, (dir: string) => Promise<void>][] = [
      ['MANIFEST overwritten', async (dir) => {
        const m = (await readdir(dir)).find((n) => n.startsWith('MANIFEST-'))!;
        const fh = await open(join(dir, m), 'r+');
        await fh.write(randomBytes(64), 0, 64, 20);
        await fh.close();
      }],
      ['CURRENT garbled', (dir) => writeFile(join(dir, 'CURRENT'), 'MANIFEST-999999\n')],
      ['CURRENT missing', (dir) => rm(join(dir, 'CURRENT'))],
    ];
    for (const [what, damage] of damages) {
      const store = await copyOf();
      await damage(store);
      expectCorruptReport(await cli(['ls', '--all', '--store', store]), store);
      const rec = await recordBriefly(store);
      expect(rec.killed, what).toBe(false);
      expectCorruptReport(rec, store);
      const repair = await cli(['repair', '--store', store]);
      expect(repair.code, `${what}: ${repair.stderr}`).toBe(0);
      const after = await expectReadable(store);
      expect(Object.fromEntries(after), what).toEqual(Object.fromEntries(before));
    }
  });
});
