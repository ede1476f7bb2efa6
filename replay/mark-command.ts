/** `dashcam mark --container <id> [--note TEXT] [--before 5m --after 2m]`: a manual incident. */
import type { Writable } from 'node:stream';
import type { IncidentRecord } from '../formats/records.js';
import { toRfc3339 } from '../formats/time.js';
import { parseDuration } from './time-arg.js';
import { viaRecorderOr } from './recorder-or-store.js';
import { writeLines } from './write-lines.js';

export interface MarkOptions { store: string; container: string; note?: string; before?: string; after?: string; format: 'text' | 'json' }
export interface MarkArgs { container: string; note?: string; before?: number; after?: number }

export async function markCommand(opts: MarkOptions, out: Writable, local: (store: string, args: MarkArgs) => Promise<IncidentRecord>): Promise<IncidentRecord> {
  const args: MarkArgs = {
    container: opts.container,
    ...(opts.note !== undefined ? { note: opts.note } : {}),
    ...(opts.before !== undefined ? { before: parseDuration(opts.before) } : {}),
    ...(opts.after !== undefined ? { after: parseDuration(opts.after) } : {}),
  };
  const r = await viaRecorderOr(opts.store, 'mark', { ...args }, () => local(opts.store, args));
  if (opts.format === 'json') await writeLines(out, [JSON.stringify({ id: r.id, container: r.container, time: toRfc3339(r.time), windowStart: toRfc3339(r.windowStart), windowEnd: toRfc3339(r.windowEnd) })]);
  else await writeLines(out, [`incident ${r.id} on ${r.container.slice(0, 12)}: window ${toRfc3339(r.windowStart)} .. ${toRfc3339(r.windowEnd)}`]);
  return r;
}
