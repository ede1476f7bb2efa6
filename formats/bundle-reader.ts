/**
 * Reading a bundle: the archive, its manifest, and the check of every part against the manifest
 * (sizes, SHA-256, the manifest's own digest, the signature). `checkBundle` never stops at the
 * first failure: `dashcam verify` reports every part, and says exactly which one failed.
 */
import { brotliDecompress, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { kMaxLength } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import { FormatError } from './errors.js';
import { readTar } from './bundle-tar.js';
import { MANIFEST, SIGNATURE, manifestDigests, parseManifest, sha256Hex, type Manifest } from './bundle-manifest.js';
import { keyId, publicKeyFromSpki, verifyBytes } from './bundle-sign.js';

const unbrotli = promisify(brotliDecompress);
const ungzip = promisify(gunzip);

export interface OpenedBundle {
  manifest: Manifest;
  manifestRaw: Buffer;
  parts: Map<string, Buffer>;
  size: number;
}

/** Parses the archive and the manifest; refuses newer bundle versions. Checks no digests yet. */
export function openBundleBytes(buf: Buffer, readerVersion: string): OpenedBundle {
  const parts = readTar(buf);
  const raw = parts.get(MANIFEST);
  if (!raw) throw new FormatError('BUNDLE_CORRUPT', `not a dashcam bundle: no ${MANIFEST} in the archive`);
  return { manifest: parseManifest(raw, readerVersion), manifestRaw: raw, parts, size: buf.length };
}

export interface CheckItem { part: string; ok: boolean; detail: string }
export interface CheckResult {
  items: CheckItem[];
  /** Parts (or `signature`) that failed, in archive order. */
  failed: string[];
  signature: 'unsigned' | 'valid' | 'invalid';
  signerId?: string;
  /** Is the signature made by the key the caller trusts (`--key`)? undefined when no key given. */
  trusted?: boolean;
}

export interface CheckOptions {
  /** The key the caller trusts; when given, an unsigned bundle or another signer fails. */
  trustedKey?: KeyObject;
  /** Called with bytes hashed so far, for progress bars. */
  onBytes?: (n: number) => void;
}

export function checkBundle(b: OpenedBundle, opts: CheckOptions = {}): CheckResult {
  const items: CheckItem[] = [];
  const add = (part: string, ok: boolean, detail: string): void => void items.push({ part, ok, detail });

  const d = manifestDigests(b.manifestRaw);
  if (d.claimed === d.actual) add(MANIFEST, true, `${b.manifestRaw.length} bytes, self-digest ok`);
  else add(MANIFEST, false, d.claimed ? 'content does not match its own digest (changed after export)' : 'has no manifestSha256 digest');

  const listed = new Set<string>();
  for (const p of b.manifest.parts) {
    listed.add(p.name);
    const data = b.parts.get(p.name);
    if (!data) { add(p.name, false, 'listed in the manifest but missing from the archive'); continue; }
    if (data.length !== p.size) { add(p.name, false, `size ${data.length} bytes, the manifest says ${p.size}`); continue; }
    const h = sha256Hex(data);
    opts.onBytes?.(data.length);
    add(p.name, h === p.sha256, h === p.sha256 ? `${p.size} bytes, sha256 ${h.slice(0, 16)}…` : `sha256 ${h.slice(0, 16)}… does not match the manifest's ${p.sha256.slice(0, 16)}…`);
  }
  for (const name of b.parts.keys()) {
    if (name !== MANIFEST && name !== SIGNATURE && !listed.has(name)) add(name, false, 'in the archive but not listed in the manifest');
  }

  const result: CheckResult = { items, failed: [], signature: 'unsigned' };
  const sig = b.parts.get(SIGNATURE);
  if (sig || b.manifest.signer) {
    const signer = b.manifest.signer;
    if (!sig) add(SIGNATURE, false, 'the manifest names a signer but the signature part is missing');
    else if (!signer) add(SIGNATURE, false, 'signature present but the manifest names no signer');
    else {
      result.signerId = signer.keyId;
      let embedded: KeyObject | undefined;
      try {
        embedded = publicKeyFromSpki(String(signer.publicKey));
      } catch {
        // reported below as a signature that does not verify
      }
      const ok = embedded !== undefined && verifyBytes(b.manifestRaw, sig, embedded) && keyId(embedded) === signer.keyId;
      result.signature = ok ? 'valid' : 'invalid';
      add(SIGNATURE, ok, ok ? `Ed25519 signature by key ${signer.keyId} is valid` : `Ed25519 signature does not verify (key ${signer.keyId})`);
    }
  }
  if (opts.trustedKey) {
    const want = keyId(opts.trustedKey);
    const ok = sig !== undefined && verifyBytes(b.manifestRaw, sig, opts.trustedKey);
    result.trusted = ok;
    add('signature', ok, ok ? `signed by the given key ${want}` : !sig ? `bundle is not signed; expected a signature by key ${want}`
      : `signature was not made by the given key ${want}${result.signerId ? ` (the manifest names key ${result.signerId})` : ''}`);
  }
  result.failed = items.filter((i) => !i.ok).map((i) => i.part);
  return result;
}

/** The first failure as an error with the right code. */
export function checkError(r: CheckResult): FormatError | undefined {
  const first = r.items.find((i) => !i.ok);
  if (!first) return undefined;
  const code = first.part === SIGNATURE || first.part === 'signature' ? 'BUNDLE_SIGNATURE' : 'BUNDLE_TAMPERED';
  const more = r.failed.length > 1 ? ` (and ${r.failed.length - 1} more: ${r.failed.slice(1).join(', ')})` : '';
  return new FormatError(code, `bundle verification failed: ${first.part}: ${first.detail}${more}`);
}

/** The decompressed events part. */
export async function eventsBytes(b: OpenedBundle): Promise<Buffer> {
  const { part, compression, bytes } = b.manifest.events;
  const data = b.parts.get(part);
  if (!data) throw new FormatError('BUNDLE_CORRUPT', `corrupt bundle: events part ${part} is missing`);
  // Inflate no further than the manifest declares (one byte more, to notice a longer stream):
  // a tiny part that inflates to gigabytes fails here rather than exhausting memory.
  const opts = bytes === undefined ? {} : { maxOutputLength: Math.max(1, Math.min(bytes + 1, kMaxLength)) };
  let out: Buffer;
  try {
    out = compression === 'br' ? await unbrotli(data, opts) : await ungzip(data, opts);
  } catch (err) {
    const big = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new FormatError('BUNDLE_CORRUPT', big ? `corrupt bundle: ${part} inflates beyond the ${bytes} bytes the manifest declares` : `corrupt bundle: ${part} does not decompress (${(err as Error).message})`, { cause: err });
  }
  if (bytes !== undefined && out.length !== bytes) throw new FormatError('BUNDLE_CORRUPT', `corrupt bundle: ${part} inflates to ${out.length} bytes, the manifest declares ${bytes}`);
  return out;
}
