/**
 * Time and duration arguments: RFC 3339 ("2026-11-23T10:00:00Z"), relative to now ("-10m",
 * "-1h30m"), or Unix epoch seconds ("1763892000", "1763892000.25"). Durations: "500ms", "30s",
 * "5m", "2h", "7d", combinable ("1h30m").
 */
import { parseISO, isValid } from 'date-fns';
import { FormatError } from '../formats/errors.js';
import type { Micros } from '../formats/schema.js';
import { parseRfc3339 } from '../formats/time.js';
import { parseDurationMicros as parseDuration } from '../formats/units.js';

/** Durations share one grammar with the recorder's flags (formats/units.ts). */
export { parseDurationMicros as parseDuration } from '../formats/units.js';

export function parseTimeArg(s: string, now: Micros): Micros {
  const t = s.trim();
  if (/^[+-]\d/.test(t) && /[a-z]$/i.test(t)) {
    const d = parseDuration(t.slice(1));
    return t.startsWith('-') ? now - d : now + d;
  }
  if (/^\d{9,11}(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1e6);
  const exact = parseRfc3339(t);
  if (exact !== undefined) return exact;
  const d = parseISO(t);
  if (isValid(d)) return d.getTime() * 1000;
  throw new FormatError('BAD_ARGUMENT', `not a time: ${JSON.stringify(s)} (RFC 3339, -10m, or epoch seconds)`);
}
