import { describe, expect, it } from 'vitest';
import { BoundedMap, BoundedSet } from '../../../recorder/incidents/bounded-set.js';

describe('BoundedSet and BoundedMap', () => {
  it('keep an entry for at least `limit` later additions and hold at most 2 x `limit`', () => {
    const s = new BoundedSet<number>(100);
    const m = new BoundedMap<number, number>(100);
    for (let i = 0; i < 1000; i++) {
      s.add(i);
      m.set(i, i * 2);
      if (i % 37 === 0) {
        for (let back = 0; back < 100 && back <= i; back++) {
          expect(s.has(i - back)).toBe(true);
          expect(m.get(i - back)).toBe((i - back) * 2);
        }
      }
      expect(m.size).toBeLessThanOrEqual(200);
    }
    // Forgotten once two generations have passed.
    expect(s.has(0)).toBe(false);
    expect(m.get(0)).toBeUndefined();
  });

  it('an entry added again is refreshed, and a map value set again is the newest', () => {
    const s = new BoundedSet<string>(3);
    const m = new BoundedMap<string, number>(3);
    s.add('a');
    m.set('a', 1);
    for (let i = 0; i < 20; i++) {
      s.add(`x${i}`);
      m.set(`x${i}`, i);
      if (i % 2 === 0) { s.add('a'); m.set('a', i); }
      expect(s.has('a')).toBe(true);
      expect(m.get('a')).toBe(i - (i % 2));
    }
  });
});
