/** `dashcam ls`: containers known to the store, running and gone. */
import type { Writable } from 'node:stream';
import type { ContainerRecord } from '../formats/records.js';
import { listContainers } from '../formats/queries.js';
import { toRfc3339 } from '../formats/time.js';
import { openStoreForReading } from './open-store.js';
import { safeText } from './summary.js';
import { writeLines } from './write-lines.js';

export interface LsOptions { store: string; all: boolean; format: 'text' | 'json' }

const GONE = new Set(['exited', 'dead', 'removed']);

export function lsRow(r: ContainerRecord): Record<string, unknown> {
  return {
    id: r.id, name: r.name, names: r.names, image: r.image, state: r.state,
    exitCode: r.exitCode ?? null, oomKilled: r.oomKilled ?? false, removed: r.removed ?? false,
    firstSeen: toRfc3339(r.firstSeen), lastSeen: toRfc3339(r.lastSeen), events: r.events,
  };
}

export async function lsCommand(opts: LsOptions, out: Writable): Promise<void> {
  const { kv } = await openStoreForReading(opts.store);
  let recs: ContainerRecord[];
  try {
    recs = await listContainers(kv);
  } finally {
    await kv.close();
  }
  recs = recs.filter((r) => opts.all || !GONE.has(r.state)).sort((a, b) => b.lastSeen - a.lastSeen);
  if (opts.format === 'json') return writeLines(out, recs.map((r) => JSON.stringify(lsRow(r))));
  const rows = recs.map((r) => [r.id.slice(0, 12), safeText(r.name || '-'), safeText(r.image || '-'), r.removed && r.state !== 'removed' ? `${r.state},removed` : r.state,
    r.exitCode === undefined ? '-' : String(r.exitCode) + (r.oomKilled ? ' (OOM)' : ''), toRfc3339(r.firstSeen).slice(0, 19) + 'Z', toRfc3339(r.lastSeen).slice(0, 19) + 'Z']);
  const head = ['CONTAINER', 'NAME', 'IMAGE', 'STATE', 'EXIT', 'FIRST SEEN', 'LAST SEEN'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  await writeLines(out, [fmt(head), ...rows.map(fmt)]);
}
