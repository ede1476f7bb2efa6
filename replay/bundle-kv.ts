/**
 * A bundle opened as a read-only, in-memory KVReader, so `replay --bundle` runs every replay query
 * unchanged. The events part stays one decompressed buffer plus an offset index (no object per
 * entry); container records and the name index are rebuilt from containers.msgpack as the small
 * `c|` and `n|` key ranges the queries expect.
 */
import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import type { KVEntry, KVRange, KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import { FormatError } from '../formats/errors.js';
import { checkContainerRecord } from '../formats/value-check.js';
import { pack, unpack } from '../formats/codec.js';
import { containerKey, metaKey, nameKey } from '../formats/keys.js';
import { FORMAT_VERSION } from '../formats/schema.js';
import { CONTAINERS_PART, type Manifest } from '../formats/bundle-manifest.js';
import { indexEntries } from '../formats/bundle-entries.js';
import { checkBundle, checkError, eventsBytes, openBundleBytes, type CheckResult, type OpenedBundle } from '../formats/bundle-reader.js';
import { toolVersion } from './export-tool-version.js';

const CHUNK = 1000;

/** A sorted run of entries addressed by index. */
interface Run { length: number; key(i: number): Buffer; value(i: number): Buffer }

function packedRun(buf: Buffer, keyAt: Uint32Array): Run {
  return {
    length: keyAt.length,
    key: (i) => { const a = keyAt[i]!; return buf.subarray(a, a + buf.readUInt32BE(a - 4)); },
    value: (i) => { const a = keyAt[i]!; const e = a + buf.readUInt32BE(a - 4); return buf.subarray(e + 4, e + 4 + buf.readUInt32BE(e)); },
  };
}
function listRun(entries: [Buffer, Buffer][]): Run {
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  return { length: entries.length, key: (i) => entries[i]![0], value: (i) => entries[i]![1] };
}

/** First index whose key is >= k. */
function lowerBound(r: Run, k: Uint8Array): number {
  let lo = 0;
  let hi = r.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(r.key(mid), k) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemoryKV implements KVReader {
  readonly #runs: Run[];

  constructor(events: { buf: Buffer; keyAt: Uint32Array }, records: readonly ContainerRecord[]) {
    const side: [Buffer, Buffer][] = [[metaKey('format'), pack({ version: FORMAT_VERSION })]];
    for (const r of records) {
      side.push([containerKey(r.id), pack(r)]);
      for (const n of new Set([...(r.names ?? []), r.name])) if (n) side.push([nameKey(n, r.id), Buffer.alloc(0)]);
    }
    this.#runs = [packedRun(events.buf, events.keyAt), listRun(side)];
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    for (const r of this.#runs) {
      const i = lowerBound(r, key);
      if (i < r.length && Buffer.compare(r.key(i), key) === 0) return r.value(i);
    }
    return undefined;
  }

  async *chunks(range: KVRange): AsyncIterable<KVEntry[]> {
    const rev = range.reverse === true;
    let left = range.limit !== undefined && range.limit >= 0 ? range.limit : Infinity;
    // Per run: the next index to take, and the bound it must not pass.
    const pos = this.#runs.map((r) => (rev ? (range.lt ? lowerBound(r, range.lt) : r.length) - 1 : range.gte ? lowerBound(r, range.gte) : 0));
    const stop = this.#runs.map((r) => (rev ? (range.gte ? lowerBound(r, range.gte) : 0) : range.lt ? lowerBound(r, range.lt) : r.length));
    let out: KVEntry[] = [];
    while (left > 0) {
      let best = -1;
      let bestKey: Buffer | undefined;
      for (let j = 0; j < this.#runs.length; j++) {
        const p = pos[j]!;
        if (rev ? p < stop[j]! : p >= stop[j]!) continue;
        const k = this.#runs[j]!.key(p);
        if (!bestKey || (rev ? Buffer.compare(k, bestKey) > 0 : Buffer.compare(k, bestKey) < 0)) { best = j; bestKey = k; }
      }
      if (best === -1) break;
      out.push([bestKey!, this.#runs[best]!.value(pos[best]!)]);
      pos[best]! += rev ? -1 : 1;
      left--;
      if (out.length >= CHUNK) { yield out; out = []; }
    }
    if (out.length) yield out;
  }

  async close(): Promise<void> {}
}

/** containers.msgpack → records, checked enough that the queries can trust them. */
export function decodeContainers(b: OpenedBundle): ContainerRecord[] {
  const raw = b.parts.get(CONTAINERS_PART);
  if (!raw) throw new FormatError('BUNDLE_CORRUPT', `corrupt bundle: ${CONTAINERS_PART} is missing`);
  let recs: unknown;
  try {
    recs = unpack<unknown>(raw, CONTAINERS_PART);
  } catch (err) {
    throw new FormatError('BUNDLE_CORRUPT', `corrupt bundle: ${CONTAINERS_PART} does not decode`, { cause: err });
  }
  if (!Array.isArray(recs)) {
    throw new FormatError('BUNDLE_CORRUPT', `corrupt bundle: ${CONTAINERS_PART} is not a list of container records`);
  }
  try {
    return recs.map((r, i) => checkContainerRecord(r, `record ${i}`));
  } catch (err) {
    throw new FormatError('BUNDLE_CORRUPT', `corrupt bundle: ${CONTAINERS_PART}: ${(err as Error).message}`, { cause: err });
  }
}

export interface BundleOpenOptions {
  /** Open even when verification fails (a warning goes to `warn`). */
  force?: boolean;
  warn?: (line: string) => void;
  trustedKey?: KeyObject;
}

export interface OpenedBundleKV {
  kv: MemoryKV;
  manifest: Manifest;
  manifestRaw: Buffer;
  records: ContainerRecord[];
  /** Full IDs of the bundle's containers, in manifest order: replay's default selection. */
  containers: string[];
  check: CheckResult;
}

export async function openBundleKV(file: string, opts: BundleOpenOptions = {}): Promise<OpenedBundleKV> {
  const b = openBundleBytes(await readFile(file), toolVersion());
  const check = checkBundle(b, { trustedKey: opts.trustedKey });
  const err = checkError(check);
  if (err) {
    if (!opts.force) throw new FormatError(err.code, `${err.message}; the bundle will not open (use --force to open it anyway)`);
    (opts.warn ?? ((l: string) => process.stderr.write(`${l}\n`)))(`dashcam: WARNING: ${file} failed verification (${check.failed.join(', ')}); showing it anyway because of --force. Its content may have been changed.`);
  }
  const records = decodeContainers(b);
  const buf = await eventsBytes(b);
  const { keyAt } = indexEntries(buf);
  const ids = b.manifest.containers.map((c) => c.id).filter((id) => records.some((r) => r.id === id));
  return { kv: new MemoryKV({ buf, keyAt }, records), manifest: b.manifest, manifestRaw: b.manifestRaw, records, containers: ids, check };
}
