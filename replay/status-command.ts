/** `dashcam status [--store] [--format text|json]`: what the recorder is doing, or what the store says. */
import type { Writable } from 'node:stream';
import type { StatusReport } from '../formats/records.js';
import { nowMicros, toRfc3339 } from '../formats/time.js';
import { formatBytes } from '../formats/units.js';
import { viaRecorderOr } from './recorder-or-store.js';
import { writeLines } from './write-lines.js';

export interface StatusOptions { store: string; format: 'text' | 'json' }

const ago = (t: number): string => {
  const s = Math.max(0, Math.round((nowMicros() - t) / 1e6));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : s < 172800 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
};
const dur = (us: number): string => (us % 86400e6 === 0 ? `${us / 86400e6}d` : us % 3600e6 === 0 ? `${us / 3600e6}h` : us % 60e6 === 0 ? `${us / 60e6}m` : `${us / 1e6}s`);

export function statusJson(r: StatusReport): Record<string, unknown> {
  return {
    ...r,
    ...(r.horizon !== undefined ? { horizon: toRfc3339(r.horizon) } : {}),
    ...(r.run ? { run: { ...r.run, start: toRfc3339(r.run.start), heartbeat: toRfc3339(r.run.heartbeat), ...(r.run.stop ? { stop: toRfc3339(r.run.stop) } : {}) } } : {}),
  };
}

export function statusText(r: StatusReport): string[] {
  const lines = [
    `recorder      ${r.recorder}${r.run ? ` (pid ${r.run.pid}, ${r.recorder === 'running' ? 'since' : 'last run'} ${toRfc3339(r.run.start).slice(0, 19)}Z${r.run.stop ? `, stopped ${toRfc3339(r.run.stop).slice(0, 19)}Z` : ''})` : ''}`,
    `store         ${r.store}  ${formatBytes(r.storeBytes)}`,
    `horizon       ${r.horizon === undefined ? '(no events)' : `${toRfc3339(r.horizon).slice(0, 19)}Z (${ago(r.horizon)})`}`,
  ];
  if (r.eventsPerSecond !== undefined) lines.push(`events/s      ${r.eventsPerSecond}`);
  lines.push(`lost events   ${r.lostEvents}`, `containers    ${r.containers}`, `incidents     ${r.incidents}`, `pinned        ${r.pinnedWindows} windows, ${formatBytes(r.pinnedBytes)}`);
  if (r.imports?.bundles) lines.push(`imported      ${r.imports.bundles} bundles, ${r.imports.events} events kept out of retention`);
  const ret = r.retention;
  if (ret) {
    lines.push(`retention     ${dur(ret.retain)} by age, ${formatBytes(ret.maxSize)} max, pins ${dur(ret.pinRetain)} (cap ${formatBytes(ret.pinMax)})${ret.importMax !== undefined ? `, imports cap ${formatBytes(ret.importMax)}` : ''}`);
    if (ret.lastPass) lines.push(`last gc       ${toRfc3339(ret.lastPass.startedAt).slice(0, 19)}Z: ${ret.lastPass.deletedEvents} events deleted in ${ret.lastPass.ms} ms`);
  }
  if (r.sources.length) {
    lines.push('sources');
    for (const s of r.sources) lines.push(`  ${s.source.padEnd(8)} ${s.state.padEnd(9)} events ${s.events}  lost ${s.lost}${s.lostByClass ? ` (${Object.entries(s.lostByClass).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}${s.detail ? `  (${s.detail})` : ''}`);
  }
  return lines;
}

export async function statusCommand(opts: StatusOptions, out: Writable, local: (store: string) => Promise<StatusReport>): Promise<StatusReport> {
  const r = await viaRecorderOr(opts.store, 'status', {}, () => local(opts.store));
  await writeLines(out, opts.format === 'json' ? [JSON.stringify(statusJson(r))] : statusText(r));
  return r;
}
