import { describe, expect, it } from 'vitest';
import { StampParser, parseRfc3339 } from '../../formats/time.js';

describe('StampParser (engine log timestamps from bytes)', () => {
  it('agrees with parseRfc3339 on engine stamps, across minutes, and on everything it does not take the fast way', () => {
    const p = new StampParser();
    const stamps: string[] = [];
    let t = Date.UTC(2026, 10, 25, 23, 59, 58);
    for (let i = 0; i < 2000; i++) {
      t += 7; // ms: crosses minutes, an hour, a day
      const iso = new Date(t).toISOString(); // ...SS.mmmZ
      const ns = `${iso.slice(0, 19)}.${iso.slice(20, 23)}${String(i % 1_000_000).padStart(6, '0')}Z`;
      stamps.push(ns, `${iso.slice(0, 19)}Z`, `${iso.slice(0, 19)}.${iso.slice(20, 22)}Z`);
    }
    stamps.push(
      '2026-11-25T10:00:60.000000000Z', // leap second: not the fast way
      '2026-11-25T10:00:00.123+02:00',
      '2026-11-25t10:00:00.5z',
      '2026-13-25T10:00:00.000000000Z',
      '2026-11-25T10:00:0x.000000000Z',
      '2026-11-25T10:00:00.00000a000Z',
      'not a time at all',
      '2026-11-25T10:00:00.',
    );
    for (const s of stamps) {
      const b = Buffer.concat([Buffer.from('xx'), Buffer.from(s, 'latin1'), Buffer.from(' line')]);
      expect(p.parse(b, 2, 2 + s.length), s).toBe(parseRfc3339(s));
    }
    expect(p.parse(Buffer.from('2026-11-25T10:00:01.000001999Z'), 0, 30)).toBe(Date.UTC(2026, 10, 25, 10, 0, 1) * 1000 + 1);
  });
});
