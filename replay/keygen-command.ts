/**
 * `dashcam keygen [-o PREFIX]`: an Ed25519 key pair for signing bundles. PREFIX.key is the
 * private key (PKCS#8 PEM, mode 0600), PREFIX.pub the public key (SPKI PEM) to hand to whoever
 * verifies. Existing files are never overwritten: losing a signing key by accident is worse than
 * an error.
 */
import type { Writable } from 'node:stream';
import { open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { generateKeyPair } from '../formats/bundle-sign.js';
import { FormatError } from '../formats/errors.js';

export interface KeygenOptions { output: string; cwd?: string }

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FormatError('BAD_ARGUMENT', `${path} already exists; choose another -o PREFIX (keys are never overwritten)`);
    throw err;
  }
  try {
    await fh.writeFile(text);
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
}

export async function keygenCommand(opts: KeygenOptions, out: Writable): Promise<{ key: string; pub: string; id: string }> {
  const base = resolve(opts.cwd ?? process.cwd(), opts.output);
  const key = `${base}.key`;
  const pub = `${base}.pub`;
  const pair = generateKeyPair();
  await writeNew(key, pair.privatePem, 0o600);
  try {
    await writeNew(pub, pair.publicPem, 0o644);
  } catch (err) {
    await rm(key, { force: true });
    throw err;
  }
  out.write(`wrote ${key} (private, keep it secret) and ${pub} (public), key ID ${pair.id}\n`);
  return { key, pub, id: pair.id };
}
