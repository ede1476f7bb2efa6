/**
 * Issue 6 acceptance, against the real engine and through the CLI: record a container, export it,
 * replay the bundle with no store, verify (and catch every tampered part, a wrong key and hostile
 * files), import into an empty store, import again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { docker, removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { cli, startRecorder, until } from '../helpers/recorder.js';
import { readTar } from '../../formats/bundle-tar.js';

beforeAll(removeTestContainers);
afterAll(removeTestContainers);

/** A ustar header for an entry named `name` (hostile names included). */
function rawEntry(name: string, data: Buffer, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.fill(0x20, 148, 156);
  h.write(type, 156);
  if (type === '2') h.write('/etc/passwd', 157);
  h.write('ustar\x0000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

describe('capture bundles (real engine, CLI)', () => {
  let dir: string;
  let store: string;
  let name: string;
  let bundle: string;
  let fromStore: string;

  beforeAll(async () => {
    // One directory for the whole file (the per-test temp helper would remove it after each test).
    dir = await mkdtemp(join(tmpdir(), 'dashcam-bundle-e2e-'));
    store = join(dir, 'store');
    const rec = await startRecorder(store);
    try {
      name = uniqueName('bundle');
      const id = await runDetached(name, ['-e', 'API_TOKEN=tok-very-secret'], ['sh', '-c', 'echo starting; echo "Authorization: Bearer abc123"; i=0; while [ $i -lt 50 ]; do echo "line $i"; i=$((i+1)); done; exit 4']);
      expect(await waitExit(id)).toBe(4);
      await docker('rm', id);
      await until(async () => (await cli(['replay', '--store', store, '-c', name, '--format', 'json'])).stdout.includes('"action":"destroy"'), 15_000, 'destroy recorded');
    } finally {
      await rec.stop();
    }
    fromStore = (await cli(['replay', '--store', store, '-c', name, '--format', 'json'])).stdout;
    bundle = join(dir, 'b.dcb');
    const r = await cli(['export', '--store', store, '-c', name, '-o', bundle]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replay --bundle prints exactly what replay --container prints from the store', async () => {
    expect(fromStore.split('\n').length).toBeGreaterThan(50);
    const r = await cli(['replay', '--bundle', bundle, '--format', 'json'], { DASHCAM_STORE: join(dir, 'no-store-here') });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fromStore);
    expect((await cli(['replay', '--bundle', bundle, '-c', name, '--format', 'json'])).stdout).toBe(fromStore);
    const text = await cli(['replay', '--bundle', bundle, '--format', 'text']);
    expect(text.stdout).toContain('stdout: line 49');
    expect(text.stdout).not.toContain('tok-very-secret');
  });

  it('verify passes, and names the part when any byte of any part changes', async () => {
    const ok = await cli(['verify', bundle]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/result\s+OK/);
    const buf = await readFile(bundle);
    for (const [part, data] of readTar(buf)) {
      const at = data.byteOffset - buf.byteOffset;
      for (const i of [0, data.length >> 1, data.length - 1]) {
        const t = Buffer.from(buf);
        t[at + i]! ^= 0x04;
        const f = join(dir, 'tampered.dcb');
        await writeFile(f, t);
        const r = await cli(['verify', f]);
        expect(r.code).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(part);
        const rep = await cli(['replay', '--bundle', f, '--format', 'json']);
        expect(rep.code).not.toBe(0);
        expect(rep.stdout).toBe('');
      }
    }
  });

  it('signs with keygen keys; a wrong key fails verify; --force opens a failing bundle with a warning', async () => {
    expect((await cli(['keygen', '-o', join(dir, 'alice')])).code).toBe(0);
    expect((await cli(['keygen', '-o', join(dir, 'mallory')])).code).toBe(0);
    const signed = join(dir, 'signed.dcb');
    expect((await cli(['export', '--store', store, '-c', name, '-o', signed, '--sign', join(dir, 'alice.key'), '--redact', 'strict'])).code).toBe(0);
    const good = await cli(['verify', signed, '--key', join(dir, 'alice.pub')]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/signed by the given key/);
    const bad = await cli(['verify', signed, '--key', join(dir, 'mallory.pub')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^dashcam: .*signature.*\[BUNDLE_SIGNATURE\]\n$/);
    const strictText = (await cli(['replay', '--bundle', signed])).stdout;
    expect(strictText).toMatch(/Authorization: Bearer \[redacted:[0-9a-f]{8}\]/);
    expect(strictText).not.toContain('abc123');

    const buf = await readFile(bundle);
    const ev = readTar(buf).get('events.bin.br')!;
    const t = Buffer.from(buf);
    t[ev.byteOffset - buf.byteOffset + 3]! ^= 1;
    const f = join(dir, 'forced.dcb');
    await writeFile(f, t);
    const forced = await cli(['replay', '--bundle', f, '--force', '--format', 'json']);
    expect(forced.stderr).toMatch(/WARNING: .*failed verification \(events\.bin\.br\)/);
  });

  it('hostile files each get a one-line error, a non-zero exit, and nothing is written', async () => {
    const hostile = join(dir, 'hostile');
    await mkdir(hostile);
    const buf = await readFile(bundle);
    const files: Record<string, Buffer> = {
      'empty.dcb': Buffer.alloc(0),
      'random.dcb': randomBytes(64 * 1024),
      'truncated.dcb': buf.subarray(0, Math.floor(buf.length * 0.6)),
      'dotdot.dcb': Buffer.concat([rawEntry('../../escaped', Buffer.from('pwned')), Buffer.alloc(1024)]),
      'absolute.dcb': Buffer.concat([rawEntry('/tmp/dashcam-absolute-escape', Buffer.from('pwned')), Buffer.alloc(1024)]),
      'symlink.dcb': Buffer.concat([rawEntry('manifest.json', Buffer.alloc(0), '2'), Buffer.alloc(1024)]),
    };
    for (const [f, data] of Object.entries(files)) await writeFile(join(hostile, f), data);
    const before = (await readdir(hostile)).sort();
    for (const f of Object.keys(files)) {
      for (const args of [['verify', f], ['replay', '--bundle', f, '--format', 'json'], ['import', f, '--store', join(hostile, 'imported')]]) {
        const r = await cli(args.map((a) => (a === f ? join(hostile, f) : a)));
        expect(r.code, `${args.join(' ')}`).toBe(1);
        expect(r.stderr, `${args.join(' ')}`).toMatch(/^dashcam: [^\n]+ \[BUNDLE_CORRUPT\]\n$/);
        expect(r.stdout).toBe('');
      }
    }
    expect((await readdir(hostile)).sort()).toEqual(before);
    expect(await readdir(dir)).not.toContain('escaped');
    await expect(readFile('/tmp/dashcam-absolute-escape')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('import into an empty store replays the same events; importing again adds nothing', async () => {
    const dst = join(dir, 'imported-store');
    const first = await cli(['import', bundle, '--store', dst]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/imported .*: [1-9][\d,]* new events/);
    expect((await cli(['replay', '--store', dst, '-c', name, '--format', 'json'])).stdout).toBe(fromStore);
    const second = await cli(['import', bundle, '--store', dst]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/: 0 new events \(0 other entries\)/);
    expect((await cli(['replay', '--store', dst, '-c', name, '--format', 'json'])).stdout).toBe(fromStore);
    const ls = await cli(['ls', '--all', '--store', dst, '--format', 'json']);
    expect(ls.stdout.trim().split('\n')).toHaveLength(1);
  });
});
