/** `dashcam incidents [--container X] [--since T] [--format text|json]`: incidents, oldest first. */
import type { Writable } from 'node:stream';
import type { KVReader } from '../formats/kv.js';
import type { IncidentRecord } from '../formats/records.js';
import { listContainers, listIncidents, resolveContainer } from '../formats/queries.js';
import { nowMicros, toRfc3339 } from '../formats/time.js';
import { FormatError } from '../formats/errors.js';
import { openStoreForReading } from './open-store.js';
import { parseTimeArg } from './time-arg.js';
import { safeText } from './summary.js';
import { writeLines } from './write-lines.js';

export interface IncidentsOptions { store: string; container?: string; since?: string; format: 'text' | 'json' }

/** An incident by its ID or the ID of an incident merged into it (for `replay --incident`). */
export async function findIncident(kv: KVReader, id: string): Promise<IncidentRecord> {
  const all = await listIncidents(kv);
  const hit = all.find((r) => r.id === id) ?? all.find((r) => r.merged?.includes(id));
  if (!hit) throw new FormatError('BAD_ARGUMENT', `no incident ${JSON.stringify(id)} in the store (see dashcam incidents)`);
  return hit;
}

export function incidentRow(r: IncidentRecord, name: string, now: number): Record<string, unknown> {
  return {
    id: r.id, time: toRfc3339(r.time), container: r.container, name, trigger: r.trigger, triggers: r.triggers ?? [r.trigger],
    severity: r.severity, title: r.title, windowStart: toRfc3339(r.windowStart), windowEnd: toRfc3339(r.windowEnd),
    pinned: r.unpinned === undefined && r.pinUntil > now, pinUntil: toRfc3339(r.pinUntil),
    ...(r.unpinned !== undefined ? { unpinned: toRfc3339(r.unpinned) } : {}),
    ...(r.note !== undefined ? { note: r.note } : {}), ...(r.rule !== undefined ? { rule: r.rule } : {}), merged: r.merged ?? [],
  };
}

export async function incidentsCommand(opts: IncidentsOptions, out: Writable): Promise<IncidentRecord[]> {
  const { kv } = await openStoreForReading(opts.store);
  let recs: IncidentRecord[];
  let names: Map<string, string>;
  const now = nowMicros();
  try {
    recs = await listIncidents(kv);
    names = new Map((await listContainers(kv)).map((c) => [c.id, c.name]));
    if (opts.container) {
      const c = await resolveContainer(kv, opts.container);
      recs = recs.filter((r) => r.container === c.id);
    }
  } finally {
    await kv.close();
  }
  if (opts.since) {
    const since = parseTimeArg(opts.since, now);
    recs = recs.filter((r) => r.windowEnd >= since);
  }
  if (opts.format === 'json') {
    await writeLines(out, recs.map((r) => JSON.stringify(incidentRow(r, names.get(r.container) ?? '', now))));
    return recs;
  }
  const head = ['ID', 'TIME', 'CONTAINER', 'NAME', 'SEVERITY', 'TRIGGER', 'WINDOW', 'TITLE'];
  const rows = recs.map((r) => [
    r.id, toRfc3339(r.time).slice(0, 19) + 'Z', r.container.slice(0, 12), safeText(names.get(r.container) || '-'), r.severity,
    (r.triggers ?? [r.trigger]).join('+'), `-${Math.round((r.time - r.windowStart) / 1e6)}s/+${Math.round((r.windowEnd - r.time) / 1e6)}s${r.unpinned === undefined && r.pinUntil > now ? '' : ' (unpinned)'}`,
    safeText(r.title),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  await writeLines(out, rows.length ? [fmt(head), ...rows.map(fmt)] : ['no incidents']);
  return recs;
}
