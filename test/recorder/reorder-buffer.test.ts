import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../recorder/reorder-buffer.js';
import { encodeValue } from '../../formats/codec.js';
import type { DashEvent } from '../../formats/schema.js';

const CID = 'c'.repeat(64);

/** A tiny deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ReorderBuffer', () => {
  it('gives back every event once, decoded, in (time, seq) order, through growth, repacks and interleaved releases', () => {
    const r = rng(7);
    const buf = new ReorderBuffer();
    const waiting: DashEvent[] = [];
    const out: DashEvent[] = [];
    const expected: DashEvent[] = [];
    let seq = 0;
    for (let step = 0; step < 20_000; step++) {
      // Times jitter backwards by up to 50 units; lines vary in size so the arena repacks.
      const ev = { kind: 'log', source: 'docker', container: CID, time: 1_000 + step - Math.floor(r() * 50), seq: ++seq, stream: 'stdout', line: Buffer.from('x'.repeat(Math.floor(r() * 300))) } as DashEvent;
      buf.push(ev.time, ev.seq, encodeValue(ev));
      waiting.push(ev);
      // Release everything at least 60 units old (later events cannot go before it).
      const watermark = 1_000 + step - 60;
      waiting.sort((a, b) => a.time - b.time || a.seq - b.seq);
      while (waiting.length && waiting[0]!.time <= watermark) expected.push(waiting.shift()!);
      while (buf.size > 0 && buf.firstTime() <= watermark) out.push(buf.shift(CID));
      if (step % 5000 === 4999) {
        // Drain completely now and then (the buffer resets to empty).
        expected.push(...waiting.splice(0));
        while (buf.size > 0) out.push(buf.shift(CID));
      }
    }
    expect(buf.size).toBe(waiting.length);
    expect(out.length).toBe(expected.length);
    expect(out.map((e) => [e.time, e.seq])).toEqual(expected.map((e) => [e.time, e.seq]));
    // Compared after everything ran: an event handed out earlier must not change as the arena is reused.
    const lines = (evs: DashEvent[]): string[] => evs.map((e) => Buffer.from((e as { line: Uint8Array }).line).toString());
    expect(lines(out)).toEqual(lines(expected));
  });
});
