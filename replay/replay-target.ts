/**
 * What a replay opens: the containers (by ID, prefix or name, or an incident's container), the
 * window (--since/--until, or the incident's pinned window) and where the cursor starts.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord, IncidentRecord } from '../formats/records.js';
import { findIncident, listIncidents, resolveContainer } from '../formats/queries.js';
import { FormatError } from '../formats/errors.js';
import { nowMicros } from '../formats/time.js';
import { parseTimeArg } from './time-arg.js';
import { PeerFinder, type Peer } from './peers.js';

export interface TargetQuery {
  container: string[];
  since?: string;
  until?: string;
  incident?: string;
  at?: string;
  /** Open at an incident of these containers without taking its window (a bundle: the incident it
   * was exported for, else its first). Ignored with --incident or --at. */
  focus?: { incident?: string };
  /** Add the containers in the story (replay/peers.ts). */
  withPeers?: boolean;
}

export interface ReplayTarget {
  records: ContainerRecord[];
  from?: number;
  to?: number;
  /** Where the cursor starts (the incident's time, --at), if not at the window's start. */
  initial?: number;
  /** The incident the replay is about: the cursor opens on its trigger event (unless --at). */
  incident?: IncidentRecord;
  /** True when the start is the incident's trigger rather than a time asked for (--at). */
  atTrigger?: boolean;
  /** The containers --with-peers added, and why. */
  peers?: Peer[];
}

/** `warn` hears a name that several containers bore (stderr by default). */
export async function resolveTarget(kv: KVReader, q: TargetQuery, warn: (line: string) => void = (l) => void process.stderr.write(l)): Promise<ReplayTarget> {
  const now = nowMicros();
  const records: ContainerRecord[] = [];
  let incident: IncidentRecord | undefined;
  if (q.incident !== undefined) {
    incident = await findIncident(kv, q.incident);
    if (incident.container) records.push(await resolveContainer(kv, incident.container));
  }
  for (const c of q.container) {
    const r = await resolveContainer(kv, c, warn);
    if (!records.some((x) => x.id === r.id)) records.push(r);
  }
  if (records.length === 0) throw new FormatError('BAD_ARGUMENT', 'nothing to replay: give --container (or an incident with a container)');
  const from = q.since !== undefined ? parseTimeArg(q.since, now) : incident?.windowStart;
  const to = q.until !== undefined ? parseTimeArg(q.until, now) : incident?.windowEnd;
  let peers: Peer[] | undefined;
  if (q.withPeers) {
    peers = await new PeerFinder(kv).peersOf(records[0]!, from, to);
    for (const p of peers) if (!records.some((r) => r.id === p.id)) records.push(await resolveContainer(kv, p.id));
  }
  if (!incident && q.focus && q.at === undefined) incident = await focusIncident(kv, records, q.focus.incident, from, to);
  const initial = q.at !== undefined ? parseTimeArg(q.at, now) : incident?.time;
  const atTrigger = q.at === undefined && incident !== undefined;
  return {
    records, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(initial !== undefined ? { initial } : {}),
    ...(incident ? { incident, atTrigger } : {}), ...(peers ? { peers } : {}),
  };
}

/** The incident named (if it is one of these containers'), else the first of theirs in the window. */
async function focusIncident(kv: KVReader, records: ContainerRecord[], id: string | undefined, from: number | undefined, to: number | undefined): Promise<IncidentRecord | undefined> {
  const ids = new Set(records.map((r) => r.id));
  const mine = (await listIncidents(kv)).filter((i) => ids.has(i.container) && (from === undefined || i.time >= from) && (to === undefined || i.time <= to));
  return mine.find((i) => i.id === id) ?? mine.sort((a, b) => a.time - b.time)[0];
}
