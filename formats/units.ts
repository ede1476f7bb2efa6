/**
 * Size and duration arguments shared by the recorder's config file and the CLI: sizes as
 * "2GiB", "500MB", "1048576"; durations as "24h", "30d", "1h30m" (in microseconds).
 * (date-fns parses neither.)
 */
import { FormatError } from './errors.js';
import type { Micros } from './schema.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1e3, kib: 1024,
  m: 1024 ** 2, mb: 1e6, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1e9, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1e12, tib: 1024 ** 4,
};

/** "2GiB" → 2147483648; "500MB" → 500000000; "64k" → 65536. */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new FormatError('BAD_ARGUMENT', `not a size: ${JSON.stringify(s)} (try 500MiB, 2GiB, 1048576)`);
  return Math.round(Number(m[1]) * unit);
}

const DURATION_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6, w: 604800e6 };

/** "24h" → µs; combinable ("1h30m"). Same grammar as replay's time arguments. */
export function parseDurationMicros(s: string): Micros {
  const re = /(\d+(?:\.\d+)?)(us|ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_US[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) throw new FormatError('BAD_ARGUMENT', `not a duration: ${JSON.stringify(s)} (try 30s, 5m, 24h, 30d)`);
  return Math.round(total);
}

/** 2147483648 → "2.0 GiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
