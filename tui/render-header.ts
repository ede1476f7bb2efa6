/** Header and timeline rows. Pure. */
import type { ContainerRecord } from '../formats/records.js';
import type { ContainerState } from '../formats/state.js';
import { toRfc3339 } from '../formats/time.js';
import type { Timeline } from '../replay/timeline.js';
import type { Line } from './line.js';

export interface HeaderInput {
  record: ContainerRecord;
  state: ContainerState;
  /** Containers merged into this replay (header names the first). */
  count: number;
  time: number;
  speed: number;
  playing: boolean;
  follow: boolean;
  filter?: string;
  /** The incident replayed: its trigger and title replace the command on the first line. */
  incident?: { trigger: string; title: string };
}

export function speedLabel(x: number): string {
  return x >= 1 ? `${x}x` : `${x}x`.replace(/^0/, '');
}

export function headerLines(h: HeaderInput): Line[] {
  const r = h.record;
  const s = h.state;
  const name = s.name || r.name || '?';
  const who = `${name}${h.count > 1 ? ` +${h.count - 1}` : ''}`;
  const ids = `${r.id.slice(0, 12)}  ${s.image || r.image || '?'}`;
  // During an incident its title matters more than the image, so it comes before (a narrow
  // terminal cuts the end of the line).
  const first = h.incident ? `${who}  ! ${h.incident.trigger}: ${h.incident.title}  ${ids}` : `${who}  ${ids}  ${s.command || r.command || ''}`;
  const exit = s.exitCode !== undefined ? `exit ${s.exitCode}` : r.exitCode !== undefined ? `exit - (final ${r.exitCode})` : 'exit -';
  const state = `${s.status}${s.oomKilled ? ' OOM' : ''}${s.health ? ` ${s.health}` : ''}`;
  const second = `${state} | ${exit} | ${toRfc3339(h.time)} | ${h.playing ? '▶' : '⏸'} ${speedLabel(h.speed)}${h.follow ? ' | follow' : ''}${h.filter ? ` | filter: ${h.filter}` : ''}`;
  return [
    { text: first, bold: true },
    { text: second, fg: s.exitCode || s.oomKilled ? 'red' : s.status === 'running' ? 'green' : 'white' },
  ];
}

const DENSITY = ' ▁▂▃▄▅▆▇█';

/** Two rows across the full width: density, then markers (! incident, x gap) with the cursor (^). */
export function timelineRows(tl: Timeline, cursor: number, width: number): [string, string] {
  const w = Math.max(1, width);
  const n = tl.buckets.length;
  const cells = new Array<number>(w).fill(0);
  for (let i = 0; i < n; i++) cells[Math.min(w - 1, Math.floor((i / n) * w))]! += tl.buckets[i]!;
  const max = Math.max(...cells);
  const density = cells.map((c) => (c <= 0 ? ' ' : DENSITY[Math.max(1, Math.ceil((c / max) * (DENSITY.length - 1)))]!)).join('');
  const span = Math.max(1, tl.end - tl.start);
  const col = (t: number): number => Math.min(w - 1, Math.max(0, Math.floor(((t - tl.start) / span) * w)));
  const marks = new Array<string>(w).fill('─');
  for (const g of tl.gaps) marks[col(g.time)] = 'x';
  for (const i of tl.incidents) marks[col(i.time)] = '!';
  marks[col(cursor)] = '^';
  return [density, marks.join('')];
}
