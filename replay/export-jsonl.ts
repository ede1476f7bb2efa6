/**
 * `export --format jsonl`: the window as one JSON Lines file, exactly the lines `replay --format
 * json` prints (the JSON Lines contract), for jq, Elastic, Loki or a SIEM. The selected entries
 * (redacted) are read into an in-memory store and replayed with the same window query.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import { JsonLinesWriter } from '../formats/jsonl-bytes.js';
import { packEntries, indexEntries } from '../formats/bundle-entries.js';
import { writeAtomically } from '../formats/bundle-writer.js';
import { timeOfKey, P_EVENT } from '../formats/keys.js';
import { entrySpan } from '../formats/event-block.js';
import { MemoryKV } from './bundle-kv.js';
import { openWindow } from './window.js';
import { exportEntries } from './export-entries.js';
import type { Selection } from './export-select.js';
import type { StrictRedactor } from './redact-strict.js';
import type { ExportResult } from './export-command.js';
import { createProgress } from './progress.js';

export async function exportJsonl(kv: KVReader, sel: Selection, records: ContainerRecord[], redactor: StrictRedactor | undefined, pathFor: (lastEvent: number | undefined) => string): Promise<ExportResult> {
  const packed: Buffer[] = [];
  let last: number | undefined;
  const progress = createProgress('export', sel.records.reduce((s, r) => s + r.events, 0));
  for await (const chunk of exportEntries(kv, sel, redactor, { perContainer: new Map(), droppedKeyframes: 0 })) {
    packed.push(packEntries(chunk));
    for (const [k, v] of chunk) if (k[0] === P_EVENT) last = Math.max(last ?? 0, timeOfKey(k) + entrySpan(v));
    progress.tick(chunk.length);
  }
  const buf = Buffer.concat(packed);
  const mem = new MemoryKV({ buf, keyAt: indexEntries(buf).keyAt }, records);
  const win = await openWindow(mem, { containers: records.map((r) => r.id), from: sel.from, to: sel.to });
  const lines: Buffer[] = [];
  let events = 0;
  const jw = new JsonLinesWriter();
  for await (const raws of win.raw) {
    events += raws.length;
    for (const r of raws) jw.add(r);
    lines.push(jw.take());
  }
  progress.done();
  const path = pathFor(last);
  const w = await writeAtomically(path, lines);
  return { path, bytes: w.bytes, events };
}
