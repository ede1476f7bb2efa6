/**
 * What an export takes: which containers, which window, which incidents. Options are checked here
 * (one container-or-incident choice, one way of giving the window) so the CLI stays declarative.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord, IncidentRecord } from '../formats/records.js';
import { FormatError } from '../formats/errors.js';
import { findIncident, listIncidents, resolveContainer } from '../formats/queries.js';
import { parseDuration, parseTimeArg } from './time-arg.js';

export interface ExportSelectOptions {
  container: string[];
  incident?: string;
  since?: string;
  until?: string;
  around?: string;
  before?: string;
  after?: string;
}

export interface Selection {
  records: ContainerRecord[];
  /** [from, to) in µs; undefined = open. */
  from?: number;
  to?: number;
  incidents: IncidentRecord[];
  /** The filters as given, for the manifest. */
  filters: Record<string, unknown>;
}

export const AROUND_DEFAULTS = { before: '5m', after: '2m' };

const usage = (msg: string): FormatError => new FormatError('BAD_ARGUMENT', msg);

export function checkSelectOptions(o: ExportSelectOptions): void {
  if (o.container.length === 0 && !o.incident) throw usage('export needs --container X (repeatable) or --incident ID');
  if (o.container.length > 0 && o.incident) throw usage('give --container or --incident, not both');
  if (o.around && (o.since || o.until)) throw usage('give --since/--until or --around, not both');
  if (!o.around && (o.before || o.after)) throw usage('--before and --after go with --around');
}

export async function selectExport(kv: KVReader, o: ExportSelectOptions, now: number): Promise<Selection> {
  checkSelectOptions(o);
  const filters: Record<string, unknown> = {};
  let from: number | undefined;
  let to: number | undefined;
  let wanted: IncidentRecord | undefined;
  const records: ContainerRecord[] = [];
  if (o.incident) {
    wanted = await findIncident(kv, o.incident);
    filters.incident = wanted.id;
    records.push(await resolveContainer(kv, wanted.container));
    from = wanted.windowStart;
    to = wanted.windowEnd + 1;
  } else {
    filters.containers = o.container;
    for (const c of o.container) {
      const r = await resolveContainer(kv, c);
      if (!records.some((x) => x.id === r.id)) records.push(r);
    }
  }
  if (o.around) {
    const t = parseTimeArg(o.around, now);
    const before = o.before ?? AROUND_DEFAULTS.before;
    const after = o.after ?? AROUND_DEFAULTS.after;
    Object.assign(filters, { around: o.around, before, after });
    from = t - parseDuration(before);
    to = t + parseDuration(after);
  } else if (o.since || o.until) {
    if (o.since) { filters.since = o.since; from = parseTimeArg(o.since, now); }
    if (o.until) { filters.until = o.until; to = parseTimeArg(o.until, now); }
  }
  if (from !== undefined && to !== undefined && from >= to) throw usage('the export window is empty (its start is not before its end)');
  const ids = new Set(records.map((r) => r.id));
  const incidents = (await listIncidents(kv)).filter((i) => i.id === wanted?.id
    || (ids.has(i.container) && (from === undefined || i.time >= from) && (to === undefined || i.time < to)));
  records.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { records, from, to, incidents, filters };
}
