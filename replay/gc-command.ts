/** `dashcam gc [--store]`: a retention pass now, by the recorder when it holds the store. */
import type { Writable } from 'node:stream';
import type { GcReport } from '../formats/records.js';
import { toRfc3339 } from '../formats/time.js';
import { formatBytes } from '../formats/units.js';
import { viaRecorderOr } from './recorder-or-store.js';
import { writeLines } from './write-lines.js';

export interface GcOptions { store: string; format: 'text' | 'json' }

export async function gcCommand(opts: GcOptions, out: Writable, local: (store: string) => Promise<GcReport>): Promise<GcReport> {
  const r = await viaRecorderOr(opts.store, 'gc', {}, () => local(opts.store));
  if (opts.format === 'json') await writeLines(out, [JSON.stringify({ ...r, startedAt: toRfc3339(r.startedAt), ...(r.horizon !== undefined ? { horizon: toRfc3339(r.horizon) } : {}) })]);
  else {
    await writeLines(out, [
      `deleted ${r.deletedEvents} events, ${r.deletedKeyframes} keyframes, ${r.deletedContainers} gone containers, ${r.deletedIncidents} expired incidents in ${r.ms} ms`,
      `store ${formatBytes(r.sizeBefore)} -> ${formatBytes(r.sizeAfter)}; horizon ${r.horizon === undefined ? '(empty)' : toRfc3339(r.horizon)}`,
      ...(r.unpinned.length ? [`unpinned (pinned bytes over the cap): ${r.unpinned.join(', ')}`] : []),
    ]);
  }
  return r;
}
