/**
 * `dashcam export`: one container's (or several, or one incident's) window out of the store into a
 * bundle file, or into plain JSON Lines with `--format jsonl`.
 */
import type { Writable } from 'node:stream';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import type { RedactionInfo } from '../formats/bundle-manifest.js';
import { BUNDLE_MEDIA_TYPE, BUNDLE_VERSION, CONTAINERS_PART } from '../formats/bundle-manifest.js';
import { EVENTS_PART, EventsPartWriter, writeBundleFile } from '../formats/bundle-writer.js';
import { loadPrivateKey } from '../formats/bundle-sign.js';
import { FormatError } from '../formats/errors.js';
import { pack } from '../formats/codec.js';
import { FORMAT_VERSION } from '../formats/schema.js';
import { nowMicros, toRfc3339 } from '../formats/time.js';
import { openStoreForReading } from './open-store.js';
import { checkSelectOptions, selectExport, type ExportSelectOptions, type Selection } from './export-select.js';
import { exportEntries, windowSnapshots, type EntryStats } from './export-entries.js';
import { strictRedactorFor, type StrictRedactor } from './redact-strict.js';
import { exportJsonl } from './export-jsonl.js';
import { defaultExportName } from './export-name.js';
import { storeHost } from './export-host.js';
import { toolVersion } from './export-tool-version.js';
import { createProgress, formatBytes } from './progress.js';

export interface ExportOptions extends ExportSelectOptions {
  store: string;
  /** Output file; default a descriptive name in `cwd`. */
  output?: string;
  redact: 'default' | 'strict';
  /** Private key file (PKCS#8 PEM, Ed25519) to sign the manifest with. */
  sign?: string;
  format: 'bundle' | 'jsonl';
  cwd?: string;
}

export interface ExportResult { path: string; bytes: number; events: number; sha256?: string }

export const RECORDER_REDACTION: RedactionInfo = {
  name: 'env-secrets', by: 'recorder',
  what: 'environment values whose names look secret (PASSWORD, TOKEN, KEY, ...), and URL passwords and recognisable tokens (ghp_, glpat-, xox?-, JWT) in any environment value, in snapshots, replaced by a stable [REDACTED ...] marker when recorded',
};

export async function exportBundle(opts: ExportOptions, out: Writable): Promise<ExportResult> {
  checkSelectOptions(opts);
  if (opts.format === 'jsonl' && opts.sign) throw new FormatError('BAD_ARGUMENT', '--sign applies to bundles; a --format jsonl export has no manifest to sign');
  const key = opts.sign ? loadPrivateKey(await readFile(opts.sign), opts.sign) : undefined;
  const { kv } = await openStoreForReading(opts.store);
  try {
    const sel = await selectExport(kv, opts, nowMicros());
    const redactor = opts.redact === 'strict' ? strictRedactorFor(sel.records, await windowSnapshots(kv, sel)) : undefined;
    const records = redactor ? sel.records.map((r) => redactor.record(r)) : sel.records;
    const result = opts.format === 'jsonl'
      ? await exportJsonl(kv, sel, records, redactor, (last) => outputPath(opts, sel, last, 'jsonl'))
      : await writeBundle(kv, sel, records, redactor, opts, key);
    out.write(`wrote ${result.path}: ${result.events.toLocaleString('en-US')} events, ${sel.records.length} container${sel.records.length === 1 ? '' : 's'}, ${formatBytes(result.bytes)}${result.sha256 ? `, sha256 ${result.sha256}` : ''}\n`);
    return result;
  } finally {
    await kv.close();
  }
}

function outputPath(opts: ExportOptions, sel: Selection, lastEvent: number | undefined, ext: string): string {
  return resolve(opts.cwd ?? process.cwd(), opts.output ?? defaultExportName(sel, lastEvent ?? nowMicros(), ext));
}

async function writeBundle(kv: KVReader, sel: Selection, records: ContainerRecord[], redactor: StrictRedactor | undefined, opts: ExportOptions, key: KeyObject | undefined): Promise<ExportResult> {
  const writer = new EventsPartWriter();
  const stats: EntryStats = { perContainer: new Map(), droppedKeyframes: 0 };
  const progress = createProgress('export', sel.records.reduce((s, r) => s + r.events, 0));
  for await (const chunk of exportEntries(kv, sel, redactor, stats)) {
    await writer.add(chunk);
    progress.tick(chunk.length);
  }
  const events = await writer.finish();
  progress.done();
  const applied = [RECORDER_REDACTION, ...(redactor?.applied() ?? [])];
  if (stats.droppedKeyframes) applied.push({ name: 'unreadable-keyframes-dropped', by: 'export', what: 'keyframes strict redaction could not decode were left out', count: stats.droppedKeyframes });
  const path = outputPath(opts, sel, writer.lastEvent, 'dcb');
  const written = await writeBundleFile(path, {
    mediaType: BUNDLE_MEDIA_TYPE,
    bundleVersion: BUNDLE_VERSION,
    eventFormatVersion: FORMAT_VERSION,
    tool: { name: 'dashcam', version: toolVersion() },
    created: toRfc3339(nowMicros()),
    host: (await storeHost(kv)) ?? hostname(),
    timeRange: {
      from: sel.from === undefined ? null : toRfc3339(sel.from),
      to: sel.to === undefined ? null : toRfc3339(sel.to),
      firstEvent: writer.firstEvent === undefined ? null : toRfc3339(writer.firstEvent),
      lastEvent: writer.lastEvent === undefined ? null : toRfc3339(writer.lastEvent),
    },
    containers: records.map((r) => ({
      id: r.id, name: r.name, image: r.image, state: r.state,
      ...(r.exitCode === undefined ? {} : { exitCode: r.exitCode }), ...(r.oomKilled ? { oomKilled: true } : {}),
      events: stats.perContainer.get(r.id) ?? 0,
    })),
    counts: { events: writer.events, byKind: writer.byKind(), keyframes: writer.keyframes, incidents: writer.incidents },
    incidents: sel.incidents.map((i) => ({ id: i.id, time: toRfc3339(i.time), container: i.container, trigger: i.trigger, severity: i.severity, title: redactor ? redactor.text(i.title) : i.title })),
    filters: sel.filters,
    redaction: { profile: opts.redact, applied },
    events: { part: EVENTS_PART, compression: 'br', bytes: writer.rawBytes },
  }, [{ name: CONTAINERS_PART, data: pack(records) }, { name: EVENTS_PART, data: events }], key);
  return { path: written.path, bytes: written.bytes, events: writer.events, sha256: written.sha256 };
}
