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

/**
 * parseRfc3339 for a stream of engine timestamps in bytes ("2023-11-14T22:13:20.123456789Z", as
 * the engine stamps every log line). Consecutive stamps share their minute, so the minute's
 * "YYYY-MM-DDTHH:MM" is parsed once and the rest is read digit by digit from the bytes, with no
 * string made. Anything else goes to parseRfc3339. A log storm spent 10% of the recorder's CPU
 * in the regular expression, Date.parse and the string per line (CPU profile of 100,000 lines).
 */
export class StampParser {
  #minute = Buffer.alloc(16);
  #minuteMicros = -1;

  parse(b: Uint8Array, start: number, end: number): Micros | undefined {
    const n = end - start;
    // "YYYY-MM-DDTHH:MM:SS" [".f…" up to 9 digits] "Z"
    fast: if (n >= 20 && n <= 30 && b[end - 1] === 90 && b[start + 16] === 58 && (n === 20 || b[start + 19] === 46)) {
      const s1 = digit(b[start + 17]!);
      const s2 = digit(b[start + 18]!);
      if (s1 < 0 || s1 > 5 || s2 < 0) break fast;
      let frac = 0;
      let digits = 0;
      for (let i = start + 20; i < end - 1; i++) {
        const d = digit(b[i]!);
        if (d < 0) break fast;
        if (digits < 6) {
          frac = frac * 10 + d;
          digits++;
        }
      }
      for (; digits < 6; digits++) frac *= 10;
      const base = this.#minuteOf(b, start);
      if (base !== undefined) return base + (s1 * 10 + s2) * 1_000_000 + frac;
    }
    return parseRfc3339(latin1(b, start, end));
  }

  /** µs of the stamp's minute, from the cache when it is the previous stamp's minute. */
  #minuteOf(b: Uint8Array, start: number): Micros | undefined {
    const m = this.#minute;
    let same = this.#minuteMicros >= 0;
    for (let i = 0; same && i < 16; i++) same = b[start + i] === m[i];
    if (same) return this.#minuteMicros;
    const text = latin1(b, start, start + 16);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text)) return undefined;
    const ms = Date.parse(`${text}:00Z`);
    if (Number.isNaN(ms)) return undefined;
    m.set(b.subarray(start, start + 16));
    this.#minuteMicros = ms * 1000;
    return this.#minuteMicros;
  }
}

const digit = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : -1);
const latin1 = (b: Uint8Array, start: number, end: number): string => Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');

/** The forms a time argument takes (replay/time-arg.ts parses them; `--help` names them). */
export const TIME_FORMS = 'RFC 3339, "2026-12-03 10:04" or "10:04" (local), now, today, yesterday, 5m (ago), or epoch seconds';
