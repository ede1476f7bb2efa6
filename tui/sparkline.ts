/** Sparklines for the CPU and memory pane. Pure. */
import type { StatsSample } from '../formats/state.js';
import type { Line } from './line.js';

const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[], width: number, max?: number): string {
  const vs = values.slice(-Math.max(0, width));
  if (vs.length === 0) return '';
  const top = max ?? Math.max(...vs);
  return vs.map((v) => (top <= 0 ? BARS[0]! : BARS[Math.min(BARS.length - 1, Math.max(0, Math.round((v / top) * (BARS.length - 1))))]!)).join('');
}

function mib(b: number | undefined): string {
  return b === undefined ? '?' : `${(b / 1048576).toFixed(b < 10 * 1048576 ? 1 : 0)}MiB`;
}

export function statsLines(samples: readonly StatsSample[], width: number): Line[] {
  if (samples.length === 0) return [{ text: 'no stats recorded yet', dim: true }];
  const last = samples[samples.length - 1]!;
  const cpuLabel = `cpu ${last.cpuPercent === undefined ? '?' : `${last.cpuPercent.toFixed(1)}%`} `.padEnd(11);
  const memLabel = `mem ${mib(last.memUsage)} `.padEnd(11);
  const w = Math.max(0, width - 11);
  const memMax = last.memLimit && last.memLimit < 2 ** 52 ? last.memLimit : undefined;
  return [
    { text: cpuLabel + sparkline(samples.map((s) => s.cpuPercent ?? 0), w), fg: 'green' },
    { text: memLabel + sparkline(samples.map((s) => s.memUsage ?? 0), w, memMax), fg: 'cyan' },
    { text: `pids ${last.pids ?? '?'}${last.memLimit ? `  limit ${mib(last.memLimit)}` : ''}`, dim: true },
  ];
}
