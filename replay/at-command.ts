/**
 * `dashcam replay --at T`: the reconstructed state of each container at T (every event at or
 * before T), as one JSON document (`--format json`) or a short readable summary.
 */
import type { Writable } from 'node:stream';
import { toRfc3339 } from '../formats/time.js';
import { atTime, loadState } from '../formats/state-load.js';
import { openStoreForReading } from './open-store.js';
import { resolveTarget } from './replay-target.js';
import { STATE_JSON_VERSION, stateJson } from './state-json.js';
import { safeText } from './summary.js';
import type { KVReader } from '../formats/kv.js';
import { writeLines } from './write-lines.js';

export interface AtOptions { store: string; container: string[]; at: string; incident?: string; withPeers?: boolean; format: 'text' | 'json' }

export async function stateAtDocument(opts: AtOptions, source?: KVReader): Promise<Record<string, unknown>> {
  const kv = source ?? (await openStoreForReading(opts.store)).kv;
  try {
    const target = await resolveTarget(kv, { container: opts.container, at: opts.at, ...(opts.incident !== undefined ? { incident: opts.incident } : {}), withPeers: opts.withPeers === true });
    const t = target.initial!;
    const states = await Promise.all(target.records.map((r) => loadState(kv, r.id, atTime(t))));
    return { version: STATE_JSON_VERSION, at: toRfc3339(t), containers: states.map((l, i) => stateJson(l.state, target.records[i])) };
  } finally {
    await kv.close();
  }
}

type Doc = { at: string; containers: Record<string, unknown>[] };
type Proc = { pid: number; procKey: string; argv: string[]; exe: string; alive: boolean; exitCode: number | null; probe: boolean };

export async function atCommand(opts: AtOptions, out: Writable, source?: KVReader): Promise<void> {
  const doc = (await stateAtDocument(opts, source)) as unknown as Doc;
  if (opts.format === 'json') return writeLines(out, [JSON.stringify(doc)]);
  const lines: string[] = [];
  for (const c of doc.containers) {
    lines.push(`${String(c.container).slice(0, 12)}  ${safeText(String(c.name))}  ${safeText(String(c.image))}  at ${doc.at}: ${c.status}${c.exitCode === null ? '' : ` (exit ${c.exitCode})`}${c.oomKilled ? ' OOM' : ''}`);
    for (const p of c.processes as Proc[]) {
      if (p.probe) continue;
      lines.push(`  ${p.alive ? 'alive ' : `exit ${p.exitCode ?? '?'}`.padEnd(6)} ${String(p.pid || '-').padStart(7)}  ${safeText(p.argv.length ? p.argv.join(' ') : p.exe)}`);
    }
    for (const l of c.logs as { stream: string; line: string }[]) lines.push(`  ${l.stream}: ${safeText(l.line)}`);
  }
  await writeLines(out, lines);
}
