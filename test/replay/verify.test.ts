import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-store.js';
import { exportBundle, type ExportOptions } from '../../replay/export-command.js';
import { verifyBundleBytes, verifyCommand } from '../../replay/verify-command.js';
import { keygenCommand } from '../../replay/keygen-command.js';
import { openBundleKV } from '../../replay/bundle-kv.js';
import { readTar, tarChunks } from '../../formats/bundle-tar.js';
import { loadPublicKey } from '../../formats/bundle-sign.js';
import { writeFixtureStore } from './export-fixture.js';

class Sink extends Writable {
  text = '';
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void { this.text += c.toString(); cb(); }
}

async function bundle(o: Partial<ExportOptions> = {}): Promise<{ path: string; dir: string; buf: Buffer }> {
  const dir = await tempDir();
  const store = join(dir, 'store');
  await writeFixtureStore(store);
  const res = await exportBundle({ store, container: ['alpha', 'beta'], redact: 'default', format: 'bundle', cwd: dir, output: 'b.dcb', ...o }, new Sink());
  return { path: res.path, dir, buf: await readFile(res.path) };
}

/** What verification says about these bytes: the failed parts, or the error that stopped it. */
async function failure(buf: Buffer, key?: Parameters<typeof verifyBundleBytes>[1]): Promise<string> {
  try {
    const { result } = await verifyBundleBytes(buf, key);
    return result.failed.join(',');
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
}

/** Byte ranges of each part inside the archive. */
function partRanges(buf: Buffer): [string, number, number][] {
  return [...readTar(buf)].map(([name, data]) => [name, data.byteOffset - buf.byteOffset, data.length]);
}

describe('verify', () => {
  it('passes an untouched bundle, signed or not', async () => {
    const { buf } = await bundle();
    expect(await failure(buf)).toBe('');
  });

  it('changing any byte of any part fails and names that part', async () => {
    const { dir, buf } = await bundle({ sign: undefined });
    const keys = await keygenCommand({ output: 'k', cwd: dir }, new Sink());
    const signed = (await bundle({ sign: keys.key })).buf;
    for (const b of [buf, signed]) {
      const ranges = partRanges(b);
      expect(ranges.map((r) => r[0])).toEqual(b === signed ? ['manifest.json', 'manifest.sig', 'containers.msgpack', 'events.bin.br'] : ['manifest.json', 'containers.msgpack', 'events.bin.br']);
      for (const [name, start, len] of ranges) {
        const stride = name.startsWith('manifest') ? 1 : 5;
        for (let i = 0; i < len; i += stride) {
          const t = Buffer.from(b);
          t[start + i]! ^= 0x20;
          const f = await failure(t);
          if (!f.includes(name)) throw new Error(`flipping byte ${i} of ${name} gave ${JSON.stringify(f)}`);
        }
      }
    }
  });

  it('checks the signature against --key: the right key passes, another key or no signature fails', async () => {
    const dir = await tempDir();
    const k1 = await keygenCommand({ output: 'one', cwd: dir }, new Sink());
    const k2 = await keygenCommand({ output: 'two', cwd: dir }, new Sink());
    const { path, buf } = await bundle({ sign: k1.key });
    const pub1 = loadPublicKey(await readFile(k1.pub), 'one.pub');
    const pub2 = loadPublicKey(await readFile(k2.pub), 'two.pub');
    expect((await verifyBundleBytes(buf, pub1)).result).toMatchObject({ signature: 'valid', trusted: true, failed: [] });
    // a private key file works as --key too (its public half is used)
    expect(await failure(buf, loadPublicKey(await readFile(k1.key), 'one.key'))).toBe('');
    expect(await failure(buf, pub2)).toBe('signature');
    const out = new Sink();
    await expect(verifyCommand({ file: path, key: k2.pub }, out)).rejects.toMatchObject({ code: 'BUNDLE_SIGNATURE' });
    expect(out.text).toMatch(/FAILED\s+signature\s+signature was not made by the given key/);
    const unsigned = (await bundle()).buf;
    expect(await failure(unsigned, pub1)).toBe('signature');
    // Dropping the signature part of a signed bundle is noticed without any key.
    const parts = [...readTar(buf)].filter(([n]) => n !== 'manifest.sig').map(([name, data]) => ({ name, data }));
    expect(await failure(Buffer.concat(tarChunks(parts)))).toBe('manifest.sig');
  });

  it('refuses key files that are not Ed25519 PEM keys', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.pem'), 'not a key');
    const { path } = await bundle();
    await expect(verifyCommand({ file: path, key: join(dir, 'bad.pem') }, new Sink())).rejects.toMatchObject({ code: 'BUNDLE_KEY' });
    await expect(bundle({ sign: join(dir, 'bad.pem') })).rejects.toMatchObject({ code: 'BUNDLE_KEY' });
  });

  it('a tampered bundle does not open in replay unless forced, and then warns', async () => {
    const { path, buf } = await bundle();
    const [, start, len] = partRanges(buf).find(([n]) => n === 'containers.msgpack')!;
    const t = Buffer.from(buf);
    t[start + len - 1]! ^= 0x01; // last byte of a msgpack string: still decodes
    await writeFile(path, t);
    await expect(openBundleKV(path)).rejects.toMatchObject({ code: 'BUNDLE_TAMPERED', message: expect.stringContaining('containers.msgpack') });
    const warnings: string[] = [];
    const b = await openBundleKV(path, { force: true, warn: (l) => void warnings.push(l) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/WARNING: .*failed verification \(containers\.msgpack\)/);
    expect(b.containers.length).toBe(2);
  });
});
