/**
 * Time and duration arguments as people type them: RFC 3339 ("2026-11-23T10:00:00Z"), a local
 * date and time ("2026-11-23 10:04"), a local time of today ("10:04"), "now", "today",
 * "yesterday" (local midnight), a duration ago ("5m" as `docker logs --since 5m` means it, or
 * "-1h30m"), a duration ahead ("+5m"), or Unix epoch seconds ("1763892000.25"). Durations:
 * "500ms", "30s", "5m", "2h", "7d", combinable ("1h30m").
 */
import { parseISO, isValid, startOfDay, subDays, set } from 'date-fns';
import { FormatError } from '../formats/errors.js';
import type { Micros } from '../formats/schema.js';
import { parseRfc3339, toRfc3339, TIME_FORMS } from '../formats/time.js';
import { parseDurationMicros as parseDuration } from '../formats/units.js';

/** Durations share one grammar with the recorder's flags (formats/units.ts). */
export { parseDurationMicros as parseDuration } from '../formats/units.js';

export function parseTimeArg(s: string, now: Micros): Micros {
  const t = s.trim().toLowerCase();
  const nowDate = new Date(Math.floor(now / 1000));
  if (t === 'now') return now;
  if (t === 'today') return startOfDay(nowDate).getTime() * 1000;
  if (t === 'yesterday') return startOfDay(subDays(nowDate, 1)).getTime() * 1000;
  if (/^[+-]?(\d+(\.\d+)?(us|ms|s|m|h|d|w))+$/.test(t)) {
    const d = parseDuration(t.replace(/^[+-]/, ''));
    return t.startsWith('+') ? now + d : now - d;
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (clock) {
    const [h, m, sec] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h < 24 && m < 60 && sec < 60) return set(nowDate, { hours: h, minutes: m, seconds: sec, milliseconds: 0 }).getTime() * 1000;
  }
  if (/^\d{9,11}(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1e6);
  const exact = parseRfc3339(s.trim());
  if (exact !== undefined) return exact;
  const d = parseISO(s.trim());
  if (isValid(d)) return d.getTime() * 1000;
  throw new FormatError('BAD_ARGUMENT', `not a time: ${JSON.stringify(s)} (${TIME_FORMS})`);
}

/** A window whose start is not before its end is a usage error, not an empty answer. */
export function checkWindow(from: Micros | undefined, to: Micros | undefined, names = { from: '--since', to: '--until' }): void {
  if (from !== undefined && to !== undefined && from >= to) {
    throw new FormatError('BAD_ARGUMENT', `${names.from} (${toRfc3339(from)}) is not before ${names.to} (${toRfc3339(to)}): the window is empty`);
  }
}
