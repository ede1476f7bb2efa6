/** `dashcam incidents [--container X] [--since T] [--format text|json]`: incidents, oldest first. */
import type { Writable } from 'node:stream';
import type { IncidentRecord } from '../formats/records.js';
import { listContainers, listIncidents, resolveContainer } from '../formats/queries.js';
import { nowMicros, toRfc3339 } from '../formats/time.js';
import { openStoreForReading } from './open-store.js';
import { parseTimeArg } from './time-arg.js';
import { safeText } from './summary.js';
import { writeLines } from './write-lines.js';
import { FormatError } from '../formats/errors.js';
import { windowFacts, type WindowFacts } from './incident-window.js';
import { PeerFinder, type Peer } from './peers.js';

export interface IncidentsOptions { store: string; container?: string; since?: string; format: 'text' | 'json' }

export function incidentRow(r: IncidentRecord, name: string, now: number, facts?: WindowFacts, peers?: Peer[]): Record<string, unknown> {
  return {
    id: r.id, time: toRfc3339(r.time), container: r.container, name, trigger: r.trigger, triggers: r.triggers ?? [r.trigger],
    severity: r.severity, title: r.title, windowStart: toRfc3339(r.windowStart), windowEnd: toRfc3339(r.windowEnd),
    pinned: r.unpinned === undefined && r.pinUntil > now, pinUntil: toRfc3339(r.pinUntil),
    ...(r.unpinned !== undefined ? { unpinned: toRfc3339(r.unpinned) } : {}),
    ...(r.note !== undefined ? { note: r.note } : {}), ...(r.rule !== undefined ? { rule: r.rule } : {}), merged: r.merged ?? [],
    ...(facts ? { gaps: facts.gaps, lost: facts.lost, notable: facts.notable, ...(facts.error ? { windowError: facts.error } : {}) } : {}),
    ...(peers ? { peers } : {}),
  };
}

const SAY: Record<string, [string, string]> = {
  die: ['non-zero exit', 'non-zero exits'], exit: ['failed process', 'failed processes'], incident: ['incident marker', 'incident markers'],
  oom: ['OOM kill', 'OOM kills'], kill: ['kill signal', 'kill signals'], unhealthy: ['unhealthy check', 'unhealthy checks'],
};

/** The line under an incident: its window's notable events, then its gaps (said apart: they matter most). */
export function factsLine(f: WindowFacts): string {
  const notable = Object.entries(f.notable).map(([k, n]) => `${n} ${SAY[k]?.[n === 1 ? 0 : 1] ?? k}`).join(', ');
  const gaps = f.gaps ? `window has gaps: ${f.gaps}${f.lost ? ` (${f.lost.toLocaleString('en-US')} events lost)` : ''}` : 'no gaps in the window';
  return [notable ? `notable: ${notable}` : 'notable: none', f.error ? `window unreadable: ${f.error}` : gaps].join('; ');
}

export async function incidentsCommand(opts: IncidentsOptions, out: Writable): Promise<IncidentRecord[]> {
  const { kv } = await openStoreForReading(opts.store);
  let recs: IncidentRecord[];
  let names: Map<string, string>;
  let facts: WindowFacts[];
  let peers: Peer[][];
  const now = nowMicros();
  try {
    recs = await listIncidents(kv);
    const all = await listContainers(kv);
    names = new Map(all.map((c) => [c.id, c.name]));
    if (opts.container) {
      const c = await resolveContainer(kv, opts.container);
      recs = recs.filter((r) => r.container === c.id);
    }
    if (opts.since) {
      const since = parseTimeArg(opts.since, now);
      recs = recs.filter((r) => r.windowEnd >= since);
    }
    facts = [];
    peers = [];
    const finder = new PeerFinder(kv, all);
    const byId = new Map(all.map((c) => [c.id, c]));
    for (const r of recs) {
      const f = await windowFacts(kv, r);
      facts.push(f);
      const self = byId.get(r.container);
      // A damaged window already says so in its facts; the list of incidents still comes out.
      peers.push(self ? await finder.peersOf(self, r.windowStart, r.windowEnd, f.talked).catch((err: unknown) => { if (err instanceof FormatError) return []; throw err; }) : []);
    }
  } finally {
    await kv.close();
  }
  if (opts.format === 'json') {
    await writeLines(out, recs.map((r, i) => JSON.stringify(incidentRow(r, names.get(r.container) ?? '', now, facts[i], peers[i]))));
    return recs;
  }
  if (recs.length === 0) {
    await writeLines(out, ['no incidents']);
    return recs;
  }
  // Grouped by container (in order of each one's first incident), each incident with what its
  // window holds and the command that opens it.
  const head = ['ID', 'TIME', 'SEVERITY', 'TRIGGER', 'WINDOW', 'TITLE'];
  const rows = recs.map((r) => [
    r.id, toRfc3339(r.time).slice(0, 19) + 'Z', r.severity, (r.triggers ?? [r.trigger]).join('+'),
    `-${Math.round((r.time - r.windowStart) / 1e6)}s/+${Math.round((r.windowEnd - r.time) / 1e6)}s${r.unpinned === undefined && r.pinUntil > now ? '' : ' (unpinned)'}`,
    safeText(r.title),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`;
  const groups = new Map<string, number[]>();
  recs.forEach((r, i) => groups.set(r.container, [...(groups.get(r.container) ?? []), i]));
  const lines: string[] = [];
  for (const [container, idx] of groups) {
    const name = safeText(names.get(container) || '-');
    lines.push(`${container ? `${name} (${container.slice(0, 12)})` : 'host'}: ${idx.length} incident${idx.length === 1 ? '' : 's'}`, fmt(head));
    for (const i of idx) {
      const pad = `  ${' '.repeat(widths[0]!)}  `;
      lines.push(fmt(rows[i]!), `${pad}${factsLine(facts[i]!)}`);
      const p = peers[i]!;
      if (p.length) lines.push(`${pad}peers: ${p.map((x) => `${safeText(x.name)} (${safeText(x.why)})`).join(', ')}`);
      if (container) lines.push(`${pad}next: dashcam replay --incident ${recs[i]!.id}${p.length ? ' --with-peers' : ''}`);
    }
    lines.push('');
  }
  await writeLines(out, lines.slice(0, -1));
  return recs;
}
