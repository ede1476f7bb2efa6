/**
 * Time and duration arguments: RFC 3339 ("2026-11-23T10:00:00Z"), relative to now ("-10m",
 * "-1h30m"), or Unix epoch seconds ("1763892000", "1763892000.25"). Durations: "500ms", "30s",
 * "5m", "2h", "7d", combinable ("1h30m").
 */
import { parseISO, isValid } from 'date-fns';
import { FormatError } from '../formats/errors.js';
import type { Micros } from '../formats/schema.js';
import { parseRfc3339 } from '../formats/time.js';

const UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6, w: 604800e6 };

export function parseDuration(s: string): Micros {
  const re = /(\d+(?:\.\d+)?)(us|ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_US[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) throw new FormatError('BAD_ARGUMENT', `not a duration: ${JSON.stringify(s)} (try 30s, 5m, 2h, 7d)`);
  return Math.round(total);
}

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
