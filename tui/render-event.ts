/** Event → one row of the event list, coloured by kind. Pure. */
import type { DashEvent, Kind } from '../formats/schema.js';
import { rowSummary } from '../replay/summary.js';
import { isNotable } from '../replay/notable.js';
import type { Line } from './line.js';

const KIND_COLOR: Record<Kind, string> = {
  lifecycle: 'cyan', snapshot: 'blue', exec: 'green', exit: 'yellow', fork: 'green', net: 'magenta', file: 'white',
  log: 'white', stats: 'gray', incident: 'red', gap: 'red', syscall: 'yellow',
};

/** HH:MM:SS.mmm in UTC (the header shows the full RFC 3339 time). */
export function clock(t: number): string {
  return new Date(Math.floor(t / 1000)).toISOString().slice(11, 23);
}

/** `tag`: a short container label when several containers are merged. */
export function eventRow(ev: DashEvent, opts: { tag?: string; selected?: boolean } = {}): Line {
  const notable = isNotable(ev);
  const kind = ev.kind === 'lifecycle' ? 'engine' : ev.kind;
  const text = `${clock(ev.time)} ${opts.tag ? `${opts.tag} ` : ''}${kind.padEnd(7)} ${rowSummary(ev)}`;
  return {
    text,
    fg: notable ? 'red' : ev.kind === 'log' && ev.stream === 'stderr' ? 'yellow' : KIND_COLOR[ev.kind],
    ...(notable ? { bold: true } : {}),
    ...(opts.selected ? { inverse: true } : {}),
  };
}

/** A run of folded health-check probes, as one dim row. */
export function foldRow(count: number): Line {
  return { text: `         ·· ${count} health-check probe event(s) folded (--no-fold shows them)`, dim: true };
}
