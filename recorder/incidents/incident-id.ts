/**
 * Incident IDs: short, stable and sortable. 9 Crockford base32 digits of the millisecond time,
 * then 2 of a per-millisecond counter: `01jd5x2k7-a0` style without the dash, 11 characters,
 * lexicographic order = creation order (until the year 10889).
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(n: number, width: number): string {
  let s = '';
  let v = Math.floor(n);
  for (let i = 0; i < width; i++) {
    s = ALPHABET[v % 32]! + s;
    v = Math.floor(v / 32);
  }
  return s;
}

export class IncidentIds {
  #lastMs = -1;
  #counter = 0;

  /** A new ID for an incident raised at `timeMicros`. */
  next(timeMicros: number): string {
    let ms = Math.floor(timeMicros / 1000);
    if (ms <= this.#lastMs) {
      ms = this.#lastMs;
      this.#counter++;
      if (this.#counter >= 1024) { ms++; this.#counter = 0; }
    } else {
      this.#counter = 0;
    }
    this.#lastMs = ms;
    return base32(ms, 9) + base32(this.#counter, 2);
  }
}

export const INCIDENT_ID = /^[0-9a-hjkmnp-tv-z]{11}$/;
