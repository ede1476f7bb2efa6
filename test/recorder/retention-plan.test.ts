import { describe, expect, it } from 'vitest';
import { activePins, fairCaps, inIntervals, mergeIntervals, pinnedByContainer, pinsOverCap, sizeTarget } from '../../recorder/retention-plan.js';
import type { IncidentRecord } from '../../formats/records.js';
import { parseSize, parseDurationMicros } from '../../formats/units.js';

const pin = (id: string, container: string, time: number, bytes = 0): IncidentRecord & { bytes: number } =>
  ({ id, container, time, trigger: 'exit', severity: 'low', title: '', windowStart: time - 10, windowEnd: time + 10, pinUntil: time + 1000, bytes });

describe('retention plan', () => {
  it('fair caps: a noisy container is cut to its share; quiet ones keep everything', () => {
    const caps = fairCaps(new Map([['noisy', 900], ['a', 50], ['b', 30]]), 300);
    expect(caps.get('a')).toBe(50);
    expect(caps.get('b')).toBe(30);
    expect(caps.get('noisy')).toBe(220);
    const even = fairCaps(new Map([['x', 500], ['y', 500]]), 600);
    expect([even.get('x'), even.get('y')]).toEqual([300, 300]);
  });

  it('pins over the cap: the oldest go first', () => {
    const ps = [pin('new', 'c', 300, 40), pin('old', 'c', 100, 40), pin('mid', 'c', 200, 40)];
    const drop = pinsOverCap(ps, new Map(ps.map((p) => [p.id, p.bytes])), 85);
    expect(drop.map((p) => p.id)).toEqual(['old']);
    expect(activePins([pin('a', 'c', 100), { ...pin('b', 'c', 100), unpinned: 5 }, pin('c', 'c', 5000)], 2000).map((p) => p.id)).toEqual(['c']);
  });

  it('pinned intervals per container (and for host gaps), merged and probed', () => {
    const by = pinnedByContainer([pin('a', 'c', 100), pin('b', 'c', 105), pin('x', 'd', 500)]);
    expect(by.get('c')).toEqual([{ from: 90, to: 116 }]);
    expect(by.get('')).toEqual([{ from: 90, to: 116 }, { from: 490, to: 511 }]);
    expect(mergeIntervals([{ from: 5, to: 6 }, { from: 1, to: 3 }, { from: 2, to: 4 }])).toEqual([{ from: 1, to: 4 }, { from: 5, to: 6 }]);
    expect([89, 90, 115, 116].map((t) => inIntervals(by.get('c')!, t))).toEqual([false, true, true, false]);
  });

  it('sizes and durations parse; the size target leaves room for LevelDB logs', () => {
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseSize('500MB')).toBe(500e6);
    expect(parseSize('64k')).toBe(65536);
    expect(() => parseSize('lots')).toThrow(/not a size/);
    expect(parseDurationMicros('24h')).toBe(86400e6);
    expect(parseDurationMicros('1h30m')).toBe(5400e6);
    expect(sizeTarget(2 * 1024 ** 3)).toBeLessThan(2 * 1024 ** 3 * 0.9);
    expect(sizeTarget(10 << 20)).toBe(5 << 20);
  });
});
