import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readTar, tarChunks } from '../../formats/bundle-tar.js';

/** A ustar entry with any name and type, as a hostile archive would carry. */
function rawEntry(name: string, type: string, data = Buffer.alloc(0), linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.fill(0x20, 148, 156);
  h.write(type, 156);
  h.write(linkname, 157, 100);
  h.write('ustar\x0000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad]);
}
const END = Buffer.alloc(1024);
const code = (f: () => unknown): string => { try { f(); return 'ok'; } catch (e) { return `${(e as { code: string }).code} ${(e as Error).message}`; } };

describe('bundle tar', () => {
  const parts = [{ name: 'manifest.json', data: Buffer.from('{"a":1}\n') }, { name: 'events.bin.br', data: randomBytes(1500) }, { name: 'empty', data: Buffer.alloc(0) }];
  const archive = Buffer.concat(tarChunks(parts));

  it('round-trips flat parts and is a tar that tar(1) lists and extracts', () => {
    const back = readTar(archive);
    expect([...back.keys()]).toEqual(parts.map((p) => p.name));
    for (const p of parts) expect(Buffer.compare(back.get(p.name)!, p.data)).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'dashcam-tar-'));
    try {
      writeFileSync(join(dir, 'b.tar'), archive);
      expect(execFileSync('tar', ['-tf', join(dir, 'b.tar')]).toString().trim().split('\n')).toEqual(parts.map((p) => p.name));
      execFileSync('tar', ['-xf', 'b.tar'], { cwd: dir });
      expect(readdirSync(dir).sort()).toEqual(['b.tar', ...parts.map((p) => p.name)].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses empty, random, truncated and non-tar input with BUNDLE_CORRUPT', () => {
    expect(code(() => readTar(Buffer.alloc(0)))).toMatch(/^BUNDLE_CORRUPT empty file/);
    expect(code(() => readTar(randomBytes(4096)))).toMatch(/^BUNDLE_CORRUPT not a dashcam bundle/);
    expect(code(() => readTar(randomBytes(100)))).toMatch(/^BUNDLE_CORRUPT/);
    expect(code(() => readTar(END))).toMatch(/^BUNDLE_CORRUPT .*no parts/);
    for (let cut = 1; cut < archive.length; cut += 97) expect(code(() => readTar(archive.subarray(0, cut)))).toMatch(/^BUNDLE_CORRUPT/);
    expect(code(() => readTar(archive.subarray(0, archive.length - 1024)))).toMatch(/^BUNDLE_CORRUPT truncated/);
  });

  it('refuses ../ paths, absolute paths, links, directories, nested names and duplicates', () => {
    const cases: [Buffer, RegExp][] = [
      [rawEntry('../evil', '0', Buffer.from('x')), /climbs out/],
      [rawEntry('a/../../evil', '0', Buffer.from('x')), /climbs out/],
      [rawEntry('/etc/passwd', '0', Buffer.from('x')), /absolute path/],
      [rawEntry('link', '2', Buffer.alloc(0), '/etc/shadow'), /symbolic link/],
      [rawEntry('hard', '1', Buffer.alloc(0), 'manifest.json'), /hard link/],
      [rawEntry('dir', '5'), /directory/],
      [rawEntry('pax', 'x', Buffer.from('30 path=../../x\n')), /pax header/],
      [rawEntry('sub/file', '0', Buffer.from('x')), /not a flat part name/],
      [Buffer.concat([rawEntry('a', '0', Buffer.from('1')), rawEntry('a', '0', Buffer.from('2'))]), /appears twice/],
    ];
    for (const [entries, why] of cases) {
      const msg = code(() => readTar(Buffer.concat([entries, END])));
      expect(msg).toMatch(/^BUNDLE_CORRUPT/);
      expect(msg).toMatch(why);
      expect(msg).not.toContain('\n');
    }
  });

  it('refuses a damaged header checksum', () => {
    const bad = Buffer.from(archive);
    bad[600 + 512 * 0]! ^= 1; // a data byte: fine for tar, caught by the manifest digests
    expect(code(() => readTar(bad))).toBe('ok');
    const hdr = Buffer.from(archive);
    hdr[1024 + 10]! ^= 1; // the second part's header
    expect(code(() => readTar(hdr))).toMatch(/bad tar header checksum/);
  });
});
