/**
 * Damaged bundles through the built CLI: `dashcam verify`, `replay --bundle` and `import` each end
 * with exit 1 and exactly one stderr line `dashcam: ... [CODE]`, never a stack trace; a failed
 * import leaves no store behind and nothing is written where a hostile tar path points.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { readFile, writeFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportBundle } from '../../replay/export-command.js';
import { verifyBundleBytes } from '../../replay/verify-command.js';
import { checkError } from '../../formats/bundle-reader.js';
import { writeFixtureStore } from '../replay/export-fixture.js';
import { Rng, fixChecksum, fuzzSeed, hugeDeclaredSize, mutateBytes, mutateTarHeader, randomInput, repackBundle } from '../helpers/fuzz.js';
import { readTar } from '../../formats/bundle-tar.js';
import { pack, unpack } from '../../formats/codec.js';
import { cli } from '../helpers/recorder.js';

class Sink extends Writable {
  override _write(_c: Buffer, _e: BufferEncoding, cb: () => void): void { cb(); }
}

let work: string;
let base: Buffer;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dashcam-fuzz-cli-'));
  await writeFixtureStore(join(work, 'store'));
  const res = await exportBundle({ store: join(work, 'store'), container: ['alpha', 'beta'], redact: 'default', format: 'bundle', cwd: work, output: 'base.dcb' }, new Sink());
  base = await readFile(res.path);
  return () => rm(work, { recursive: true, force: true });
});

/** A header entry renamed (checksum fixed) so the archive points outside its directory. */
function renamed(name: string, type = '0'): Buffer {
  const b = Buffer.from(base);
  b.fill(0, 0, 100);
  b.write(name, 0, 100, 'latin1');
  b.write(type, 156, 1, 'latin1');
  fixChecksum(b, 0);
  return b;
}

async function fails(buf: Buffer): Promise<boolean> {
  try {
    const { result } = await verifyBundleBytes(buf);
    return checkError(result) !== undefined;
  } catch {
    return true;
  }
}

describe('damaged bundles through the CLI', () => {
  it('a bundle whose manifest, records and events carry terminal escapes (digests intact) prints them escaped', async () => {
    const E = '\x1b[2J\x1b]0;pwned\x07\r\n\u009b1m\u202e';
    const parts = new Map([...readTar(base)].map(([n, d]) => [n, Buffer.from(d)]));
    const m = JSON.parse(parts.get('manifest.json')!.toString()) as Record<string, unknown> & { containers: Record<string, unknown>[] };
    Object.assign(m, { host: `h${E}`, created: `c${E}`, tool: { name: 'dashcam', version: `v${E}` } });
    m.containers = m.containers.map((c) => ({ ...c, name: `n${E}`, image: `i${E}` }));
    const recs = unpack<Record<string, unknown>[]>(parts.get('containers.msgpack')!, 'containers').map((r) => ({ ...r, name: `n${E}`, names: [`n${E}`], image: `i${E}` }));
    parts.set('containers.msgpack', pack(recs));
    const file = join(work, 'escapes.dcb');
    await writeFile(file, repackBundle(m, parts));
    const outs = [await cli(['verify', file]), await cli(['replay', '--bundle', file, '--format', 'text']), await cli(['replay', '--bundle', file, '--at', new Date().toISOString(), '--format', 'text'])];
    for (const r of outs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    }
    expect(outs[0]!.stdout).toContain('\\x1b[2J');
    const json = await cli(['replay', '--bundle', file, '--format', 'json']);
    expect(json.stdout.split('\n').filter(Boolean).every((l) => typeof JSON.parse(l) === 'object')).toBe(true);
  });

  it('~20 damaged bundles: verify, replay --bundle and import each exit 1 with one line `dashcam: ... [CODE]`', async () => {
    const cases: [string, Buffer][] = [
      ['empty file', Buffer.alloc(0)],
      ['truncated to 700 bytes', base.subarray(0, 700)],
      ['tar path ../evil', renamed('../evil')],
      ['absolute tar path', renamed('/tmp/evil')],
      ['symlink entry', renamed('manifest.json', '2')],
      ['directory entry', renamed('manifest.json', '5')],
    ];
    const seed = fuzzSeed();
    const gens = [(r: Rng) => mutateBytes(base, r), (r: Rng) => mutateTarHeader(base, r), (r: Rng) => hugeDeclaredSize(base, r), (r: Rng) => randomInput(r, base.subarray(0, 512))];
    for (let i = 0; cases.length < 22 && i < 500; i++) {
      const rng = new Rng(seed + 100_000 + i);
      const { data, how } = gens[i % gens.length]!(rng);
      if (await fails(data)) cases.push([how, data]);
    }
    const seen = new Set<string>();
    const check = async ([how, data]: [string, Buffer], n: number): Promise<void> => {
      const file = join(work, `case-${n}.dcb`);
      const store = join(work, `import-${n}`);
      await writeFile(file, data);
      for (const args of [['verify', file], ['replay', '--bundle', file, '--format', 'json'], ['import', file, '--store', store]]) {
        const r = await cli(args);
        const what = `${how}: dashcam ${args[0]} -> ${r.code} ${JSON.stringify(r.stderr)}`;
        expect(r.code, what).toBe(1);
        expect(r.stderr, what).toMatch(/^dashcam: [^\n]* \[(BUNDLE_CORRUPT|BUNDLE_TAMPERED|BUNDLE_VERSION|BUNDLE_SIGNATURE|DECODE)\]\n$/);
        expect(r.stderr, what).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]|\bat .*\.js:\d+/);
        seen.add(/\[(\w+)\]/.exec(r.stderr)![1]!);
        if (args[0] === 'replay') expect(r.stdout, what).toBe('');
      }
      // Import refuses before it opens the target, so a damaged bundle leaves no store behind.
      expect(await stat(store).then(() => true, () => false), how).toBe(false);
    };
    for (let i = 0; i < cases.length; i += 4) await Promise.all(cases.slice(i, i + 4).map((c, j) => check(c, i + j)));
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(seen).toContain('BUNDLE_CORRUPT');
    // Nothing appeared where the hostile tar paths pointed.
    expect(await stat(join(work, '..', 'evil')).then(() => true, () => false)).toBe(false);
    expect(await stat('/tmp/evil').then(() => true, () => false)).toBe(false);
  }, 300_000);
});
