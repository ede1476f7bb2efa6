/**
 * The arithmetic of a retention pass, pure so it is tested without a store: fair shares of the
 * size budget, which pins survive the pinned-bytes cap, and pinned intervals per container.
 */
import type { IncidentRecord } from '../formats/records.js';

export interface Interval { from: number; to: number }

/**
 * Max-min fair shares: every container keeps all it has if that is under an equal share of what
 * is left; the others split the rest equally. One noisy container is cut back to its share
 * instead of evicting everyone's history.
 */
export function fairCaps(sizes: ReadonlyMap<string, number>, budget: number): Map<string, number> {
  const caps = new Map<string, number>();
  const order = [...sizes.entries()].sort((a, b) => a[1] - b[1]);
  let left = Math.max(0, budget);
  for (let i = 0; i < order.length; i++) {
    const [id, size] = order[i]!;
    const share = left / (order.length - i);
    const cap = Math.min(size, share);
    caps.set(id, cap);
    left -= cap;
  }
  return caps;
}

/** Pins in force at `now` (not expired, not dropped). */
export function activePins(incidents: readonly IncidentRecord[], now: number): IncidentRecord[] {
  return incidents.filter((r) => r.unpinned === undefined && r.pinUntil > now);
}

/** Pins to drop, oldest first, until the pinned bytes fit under `cap`. */
export function pinsOverCap(pins: readonly IncidentRecord[], bytes: ReadonlyMap<string, number>, cap: number): IncidentRecord[] {
  let total = 0;
  for (const p of pins) total += bytes.get(p.id) ?? 0;
  const drop: IncidentRecord[] = [];
  for (const p of [...pins].sort((a, b) => a.time - b.time)) {
    if (total <= cap) break;
    drop.push(p);
    total -= bytes.get(p.id) ?? 0;
  }
  return drop;
}

/** Sorted, overlapping intervals joined. */
export function mergeIntervals(xs: readonly Interval[]): Interval[] {
  const s = [...xs].sort((a, b) => a.from - b.from);
  const out: Interval[] = [];
  for (const x of s) {
    const last = out[out.length - 1];
    if (last && x.from <= last.to) last.to = Math.max(last.to, x.to);
    else out.push({ ...x });
  }
  return out;
}

/**
 * Pinned intervals per container: incident windows and `kept` ones (imported events); the host's
 * gap events are kept inside every pin.
 */
export function pinnedByContainer(pins: readonly IncidentRecord[], kept: readonly { container: string; from: number; to: number }[] = []): Map<string, Interval[]> {
  const by = new Map<string, Interval[]>();
  const add = (c: string, i: Interval): void => {
    let l = by.get(c);
    if (!l) by.set(c, (l = []));
    l.push(i);
  };
  for (const p of pins) {
    const i = { from: p.windowStart, to: p.windowEnd + 1 };
    add(p.container, i);
    add('', { ...i });
  }
  for (const k of kept) {
    const i = { from: k.from, to: k.to + 1 };
    add(k.container, i);
    if (k.container !== '') add('', { ...i });
  }
  for (const [c, l] of by) by.set(c, mergeIntervals(l));
  return by;
}

/** Is `t` inside one of the sorted intervals? `hint` walks forward for sorted probes. */
export function inIntervals(list: readonly Interval[], t: number): boolean {
  return overlapsIntervals(list, t, t);
}

/** Does [first, last] (inclusive) meet any of the sorted, disjoint intervals? */
export function overlapsIntervals(list: readonly Interval[], first: number, last: number): boolean {
  for (const i of list) {
    if (last < i.from) return false;
    if (first < i.to) return true;
  }
  return false;
}

/** Room left for events: the size target minus what is not events (logs, records, manifest). */
export function sizeTarget(maxSize: number, writeBuffer = 4 << 20): number {
  return Math.max(maxSize * 0.5, maxSize * 0.9 - writeBuffer);
}
