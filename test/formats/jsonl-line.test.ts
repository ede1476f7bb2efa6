/**
 * `toJsonLine` builds lines by hand for speed; it must print exactly what JSON.stringify of the
 * contract object prints, for every kind and for hostile strings.
 */
import { describe, expect, it } from 'vitest';
import { toJson, toJsonLine } from '../../formats/jsonl.js';
import type { DashEvent } from '../../formats/schema.js';
import { mixedEvents } from '../../bench/synthetic.js';
import { hostileEvents } from './hostile-events.js';


describe('toJsonLine', () => {
  it('equals JSON.stringify(toJson(ev)) for hostile strings of every kind', () => {
    for (const ev of hostileEvents()) expect(toJsonLine(ev)).toBe(JSON.stringify(toJson(ev)));
  });

  it('equals it for a realistic mix', () => {
    let seq = 0;
    for (const e of mixedEvents(20_000, 1_700_000_000_000_000)) {
      const ev = { ...e, seq: ++seq } as DashEvent;
      expect(toJsonLine(ev)).toBe(JSON.stringify(toJson(ev)));
    }
  });
});
