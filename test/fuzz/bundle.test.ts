/**
 * Fuzzing the bundle reader: a real small bundle (exported from the fixture store) mutated blindly
 * (bit flips, truncations, inserted and deleted bytes, random files), in its tar headers (hostile
 * names, types and sizes with valid checksums), and structurally (a part changed and the manifest
 * re-digested, so the damage gets past verification into decoding and replay). Every case must
 * end as success or a FormatError with a stable code, within a time limit, with bounded memory.
 * FUZZ_CASES=N raises the case count; FUZZ_SEED=S replays a run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, createBrotliCompress, constants as zc } from 'node:zlib';
import { exportBundle } from '../../replay/export-command.js';
import { verifyCommand } from '../../replay/verify-command.js';
import { openBundleKV } from '../../replay/bundle-kv.js';
import { replayCommand } from '../../replay/replay-command.js';
import { atCommand } from '../../replay/at-command.js';
import { importCommand } from '../../replay/import-command.js';
import { readTar } from '../../formats/bundle-tar.js';
import type { Manifest } from '../../formats/bundle-manifest.js';
import { indexEntries, packEntries } from '../../formats/bundle-entries.js';
import { pack } from '../../formats/codec.js';
import type { KVEntry } from '../../formats/kv.js';
import { toRfc3339 } from '../../formats/time.js';
import { writeFixtureStore, SEC, T0 } from '../replay/export-fixture.js';
import {
  Rng, Tally, repackBundle, fuzzCases, fuzzSeed, hostileEventValue, hostileValue, hugeDeclaredSize, mutateBytes, mutateTarHeader, randomInput, runCase, type Outcome,
} from '../helpers/fuzz.js';

class Sink extends Writable {
  bytes = 0;
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void { this.bytes += c.length; cb(); }
}

/** The codes a damaged bundle may legitimately end in. */
const BUNDLE_CODES = new Set(['BUNDLE_CORRUPT', 'BUNDLE_VERSION', 'BUNDLE_TAMPERED', 'BUNDLE_SIGNATURE', 'DECODE', 'STORE_CORRUPT', 'BAD_ARGUMENT']);
const LIMIT_MS = 5_000;
const AT = toRfc3339(T0 + 35 * SEC);

let work: string;
let base: Buffer;
let parts: Map<string, Buffer>;
let manifest: Manifest;
let entries: KVEntry[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dashcam-fuzz-bundle-'));
  const store = join(work, 'store');
  await writeFixtureStore(store);
  const res = await exportBundle({ store, container: ['alpha', 'beta'], redact: 'default', format: 'bundle', cwd: work, output: 'base.dcb' }, new Sink());
  base = await readFile(res.path);
  parts = new Map([...readTar(base)].map(([n, d]) => [n, Buffer.from(d)]));
  manifest = JSON.parse(parts.get('manifest.json')!.toString('utf8')) as Manifest;
  const raw = brotliDecompressSync(parts.get('events.bin.br')!);
  const idx = indexEntries(raw);
  entries = [...idx.keyAt].map((ka) => {
    const kl = raw.readUInt32BE(ka - 4);
    const vl = raw.readUInt32BE(ka + kl);
    return [raw.subarray(ka, ka + kl), raw.subarray(ka + kl + 4, ka + kl + 4 + vl)];
  });
  return () => rm(work, { recursive: true, force: true });
});

const repack = repackBundle;

/** A mutation that gets past the digests: one part's content changes, the manifest follows. */
function deepMutation(rng: Rng): { data: Buffer; how: string } {
  const p = new Map(parts);
  const m = structuredClone(manifest) as unknown as Record<string, unknown>;
  const what = rng.int(6);
  if (what <= 2) {
    // The events: one value replaced by hostile msgpack, or the raw entry stream damaged.
    const es = entries.map(([k, v]) => [k, v] as KVEntry);
    let how: string;
    if (what === 0) {
      const i = rng.int(es.length);
      es[i] = [es[i]![0], hostileEventValue(rng)];
      how = `events: value ${i} hostile`;
    } else if (what === 1) {
      const i = rng.int(es.length);
      const v = Buffer.from(es[i]![1]);
      es[i] = [es[i]![0], rng.chance(0.5) ? v.subarray(0, rng.int(v.length)) : mutateBytes(v, rng).data];
      how = `events: value ${i} damaged`;
    } else {
      how = 'events: entry stream damaged';
    }
    let raw = packEntries(es);
    if (what === 2) raw = mutateBytes(raw, rng).data;
    p.set('events.bin.br', brotliCompressSync(raw));
    (m.events as { bytes?: number }).bytes = raw.length;
    return { data: repack(m, p), how };
  }
  if (what === 3) {
    // containers.msgpack: random bytes, or records whose fields have the wrong types.
    const recs = [...Array(1 + rng.int(3))].map(() => {
      const r: Record<string, unknown> = { id: rng.chance(0.7) ? rng.pick(manifest.containers).id : hostileValue(rng, 1) };
      for (const f of ['name', 'names', 'image', 'state', 'firstSeen', 'lastSeen', 'events', 'exitCode', 'removed', 'snapshot']) if (rng.chance(0.6)) r[f] = hostileValue(rng, 2);
      return r;
    });
    p.set('containers.msgpack', rng.chance(0.2) ? rng.bytes(rng.int(200)) : pack(recs));
    return { data: repack(m, p), how: 'containers: hostile records' };
  }
  // The manifest: one field set to a hostile value (the self-digest recomputed).
  const fields = ['mediaType', 'bundleVersion', 'eventFormatVersion', 'tool', 'created', 'host', 'timeRange', 'containers', 'counts', 'incidents', 'filters', 'redaction', 'events', 'signer'];
  const f = rng.pick(fields);
  if (f === 'events' && rng.chance(0.6)) m.events = { part: rng.pick(['manifest.json', 'containers.msgpack', 'nope', 'events.bin.br']), compression: rng.pick(['br', 'gzip', 'zstd']) };
  else if (f === 'containers' && rng.chance(0.5)) m.containers = [{ ...manifest.containers[0], id: hostileValue(rng, 1) }];
  else m[f] = hostileValue(rng, 2);
  return { data: repack(m, p), how: `manifest.${f} hostile` };
}

/** Every path a bundle takes through dashcam: verify, replay (json, text, --at) with --force, import. */
async function consume(data: Buffer, file: string): Promise<Outcome[]> {
  await writeFile(file, data);
  const out: Outcome[] = [];
  out.push(await runCase(() => verifyCommand({ file }, new Sink()), LIMIT_MS));
  out.push(await runCase(async () => {
    const b = await openBundleKV(file, { force: true, warn: () => undefined });
    await replayCommand({ store: '-', container: b.containers, format: 'json' }, new Sink(), b.kv);
    await replayCommand({ store: '-', container: b.containers, format: 'text' }, new Sink(), b.kv);
    await atCommand({ store: '-', container: b.containers, at: AT, format: 'text' }, new Sink(), b.kv);
  }, LIMIT_MS));
  // Import only reads bundles that verify; one store per case is the cost, so only then.
  if (out[0]!.ok) {
    const store = await mkdtemp(join(work, 'import-'));
    try {
      out.push(await runCase(() => importCommand({ file, store }, new Sink()), LIMIT_MS));
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  }
  return out;
}

type Gen = (rng: Rng) => { data: Buffer; how: string };
const GENERATORS: [string, number, Gen][] = [
  ['blind byte mutations', 0.3, (rng) => mutateBytes(base, rng)],
  ['tar header fields', 0.2, (rng) => mutateTarHeader(base, rng)],
  ['huge declared sizes', 0.05, (rng) => hugeDeclaredSize(base, rng)],
  ['random bytes', 0.1, (rng) => randomInput(rng, base.subarray(0, 512))],
  ['structure-aware (past the digests)', 0.35, deepMutation],
];

describe('bundle reader fuzz', () => {
  it('the unmutated bundle verifies, replays and imports (the fuzzer starts from a good input)', async () => {
    const out = await consume(base, join(work, 'good.dcb'));
    expect(out).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
  });

  it('a decompression bomb (1 GiB of zeros in a small events part) fails cleanly without inflating it', async () => {
    const z = createBrotliCompress({ params: { [zc.BROTLI_PARAM_QUALITY]: 1 } });
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    const done = new Promise((r) => z.once('end', r));
    const zero = Buffer.alloc(16 << 20);
    for (let i = 0; i < 64; i++) if (!z.write(zero)) await new Promise((r) => z.once('drain', r));
    z.end();
    await done;
    const bomb = Buffer.concat(out);
    expect(bomb.length).toBeLessThan(1 << 20);
    const p = new Map(parts);
    p.set('events.bin.br', bomb);
    const file = join(work, 'bomb.dcb');
    const rss0 = process.memoryUsage().rss;
    const outs = await consume(repack(structuredClone(manifest) as unknown as Record<string, unknown>, p), file);
    expect(outs.map((o) => (o.ok ? 'ok' : o.code))).toEqual(['BUNDLE_TAMPERED', 'BUNDLE_CORRUPT']);
    expect(outs[1]).toMatchObject({ message: expect.stringContaining('inflates beyond') });
    expect(process.memoryUsage().rss - rss0).toBeLessThan(256 << 20);
  });

  const total = fuzzCases(3000);
  it(`${total} mutated bundles each end in success or a FormatError, never a crash, hang or memory blow-up`, async () => {
    const seed = fuzzSeed();
    const tally = new Tally();
    const perGen = new Map<string, Tally>();
    const rssStart = process.memoryUsage().rss;
    let rssMax = rssStart;
    let slowest = 0;
    const file = join(work, 'case.dcb');
    for (let i = 0; i < total; i++) {
      const rng = new Rng(seed + i);
      let r = rng.next();
      let gen = GENERATORS[GENERATORS.length - 1]!;
      for (const g of GENERATORS) { if (r < g[1]) { gen = g; break; } r -= g[1]; }
      const { data, how } = gen[2](rng);
      const t0 = performance.now();
      let outs: Outcome[];
      try {
        outs = await consume(data, file);
      } catch (err) {
        throw new Error(`case ${i} (seed ${seed + i}, ${gen[0]}: ${how}) threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack ?? err}`);
      }
      slowest = Math.max(slowest, performance.now() - t0);
      for (const o of outs) {
        if (!o.ok && !BUNDLE_CODES.has(o.code)) throw new Error(`case ${i} (seed ${seed + i}, ${how}) ended in unexpected code ${o.code}: ${o.message}`);
        if (!o.ok && /\n/.test(o.message)) throw new Error(`case ${i} (${how}): multi-line error message ${JSON.stringify(o.message)}`);
        tally.add(o);
        if (!perGen.has(gen[0])) perGen.set(gen[0], new Tally());
        perGen.get(gen[0])!.add(o);
      }
      if ((i & 63) === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    const summary = `${total} cases, seed ${seed}: ${tally}; slowest case ${slowest.toFixed(0)} ms; rss ${(rssStart / 2 ** 20).toFixed(0)} -> max ${(rssMax / 2 ** 20).toFixed(0)} MiB\n${[...perGen].map(([g, t]) => `  ${g}: ${t}`).join('\n')}`;
    console.log(summary);
    // The fuzzer reached past the archive into decoding: some cases replayed fine, some failed deep.
    expect(tally.byCode.get('ok') ?? 0).toBeGreaterThan(0);
    expect(tally.byCode.get('BUNDLE_CORRUPT') ?? 0).toBeGreaterThan(0);
    expect(tally.byCode.get('BUNDLE_TAMPERED') ?? 0).toBeGreaterThan(0);
    expect(rssMax - rssStart).toBeLessThan(512 * 2 ** 20);
  }, 600_000);
});
