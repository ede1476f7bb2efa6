/** Microsecond wall-clock helpers; RFC 3339 with microseconds for the JSON Lines contract. */
import type { Micros } from './schema.js';

export function nowMicros(): Micros {
  // performance.timeOrigin + now() has sub-millisecond resolution, Date.now() has not.
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** 1700000000123456 → "2023-11-14T22:13:20.123456Z" */
export function toRfc3339(t: Micros): string {
  const ms = Math.floor(t / 1000);
  const iso = new Date(ms).toISOString(); // ...T22:13:20.123Z
  const micro = String(Math.floor(t) - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, 23)}${micro}Z`;
}

/** RFC 3339 with up to nanoseconds ("2023-11-14T22:13:20.123456789Z", or an offset) → µs. */
export function parseRfc3339(s: string): Micros | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(s);
  if (!m) return undefined;
  const secs = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(secs)) return undefined;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return secs * 1000 + Number(frac);
}
